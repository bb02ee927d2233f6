using System.Globalization;
using System.Text.Json;
using System.Xml;
using System.Xml.Linq;

namespace Onboarding.Sztp;

/// <summary>
/// Bounded, total readers for YANG-encoded JSON (RFC 7951) and XML (RFC 7950 §13): every failure, including the
/// exceptions of System.Text.Json and System.Xml, becomes an <see cref="SztpException"/>.
/// </summary>
internal static class YangInput
{
    private const int MaxDepth = 16;

    public static JsonDocument ParseJson(ReadOnlyMemory<byte> body, int maxBytes)
    {
        CheckSize(body.Length, maxBytes);
        // RFC 8259 §8.1: JSON is UTF-8. JsonDocument checks string contents only when they are read, so check here
        // and keep the later reads total.
        if (!System.Text.Unicode.Utf8.IsValid(body.Span))
            throw new SztpException(SztpError.Malformed, "the JSON body is not valid UTF-8");
        try
        {
            return JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = MaxDepth });
        }
        catch (JsonException e)
        {
            throw new SztpException(SztpError.Malformed, $"not valid JSON: {e.Message}", e);
        }
    }

    public static XElement ParseXml(ReadOnlyMemory<byte> body, int maxBytes)
    {
        CheckSize(body.Length, maxBytes);
        var settings = new XmlReaderSettings
        {
            // No DTDs, no external entities: the body comes from an unauthenticated-until-checked device.
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            MaxCharactersInDocument = maxBytes,
            IgnoreComments = true,
            IgnoreProcessingInstructions = true,
            IgnoreWhitespace = true,
        };
        try
        {
            using var stream = new MemoryStream(body.ToArray(), writable: false);
            using var reader = XmlReader.Create(stream, settings);
            var root = XDocument.Load(reader).Root ?? throw new SztpException(SztpError.Malformed, "empty XML document");
            if (Depth(root) > MaxDepth)
                throw new SztpException(SztpError.TooLarge, $"XML nested deeper than {MaxDepth} levels");
            return root;
        }
        catch (XmlException e)
        {
            throw new SztpException(SztpError.Malformed, $"not valid XML: {e.Message}", e);
        }
    }

    private static int Depth(XElement element) => 1 + (element.HasElements ? element.Elements().Max(Depth) : 0);

    public static void CheckSize(int length, int maxBytes)
    {
        if (length > maxBytes)
            throw new SztpException(SztpError.TooLarge, $"body of {length} bytes exceeds the limit of {maxBytes}");
    }

    /// <summary>The single member of a top-level object, which must be <paramref name="qualifiedName"/> (RFC 7951 §4).</summary>
    public static JsonElement TopLevel(JsonDocument document, params string[] qualifiedNames)
    {
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw new SztpException(SztpError.Malformed, "the JSON document is not an object");
        JsonElement? found = null;
        foreach (var member in root.EnumerateObject())
        {
            if (found is not null || !qualifiedNames.Contains(member.Name, StringComparer.Ordinal))
                throw new SztpException(SztpError.UnknownNode, $"unexpected top-level member '{Truncate(member.Name)}'");
            found = member.Value;
        }
        var value = found ?? throw new SztpException(SztpError.Malformed, $"missing '{qualifiedNames[0]}'");
        return RequireObject(value, qualifiedNames[0]);
    }

    public static JsonElement RequireObject(JsonElement value, string name) =>
        value.ValueKind == JsonValueKind.Object ? value
            : throw new SztpException(SztpError.Malformed, $"'{name}' must be an object");

    /// <summary>
    /// Checks each member name of an object: a known leaf, or (ignored) a member of another module, which is how
    /// RFC 7951 §4 encodes an augmentation (e.g. RFC 9646's <c>ietf-sztp-csr:csr-support</c>).
    /// </summary>
    public static void CheckMembers(JsonElement obj, string context, params string[] known)
    {
        foreach (var member in obj.EnumerateObject())
        {
            if (!known.Contains(member.Name, StringComparer.Ordinal) && !member.Name.Contains(':', StringComparison.Ordinal))
                throw new SztpException(SztpError.UnknownNode, $"unknown leaf '{Truncate(member.Name)}' in {context}");
        }
    }

    public static string? String(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var value))
            return null;
        return value.ValueKind == JsonValueKind.String ? value.GetString()
            : throw new SztpException(SztpError.Malformed, $"'{name}' must be a string");
    }

    public static byte[]? Binary(JsonElement obj, string name) => Base64(String(obj, name), name);

    public static bool Empty(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var value))
            return false;
        // RFC 7951 §6.9: a leaf of type empty is [null].
        if (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 1 && value[0].ValueKind == JsonValueKind.Null)
            return true;
        throw new SztpException(SztpError.Malformed, $"'{name}' is of type empty and must be [null]");
    }

    public static IEnumerable<JsonElement> Array(JsonElement obj, string name, int maxItems)
    {
        if (!obj.TryGetProperty(name, out var value))
            return [];
        if (value.ValueKind != JsonValueKind.Array)
            throw new SztpException(SztpError.Malformed, $"'{name}' must be an array");
        if (value.GetArrayLength() > maxItems)
            throw new SztpException(SztpError.TooLarge, $"'{name}' has more than {maxItems} entries");
        return value.EnumerateArray();
    }

    public static byte[]? Base64(string? text, string name)
    {
        if (text is null)
            return null;
        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException e)
        {
            throw new SztpException(SztpError.Malformed, $"'{name}' is not base64", e);
        }
    }

    public static void CheckRoot(XElement root, XNamespace ns, string name)
    {
        if (root.Name != ns + name)
            throw new SztpException(SztpError.UnknownNode,
                $"expected <{name}> in namespace {ns.NamespaceName}, got <{Truncate(root.Name.LocalName)}> in '{Truncate(root.Name.NamespaceName)}'");
    }

    /// <summary>Like <see cref="CheckMembers"/> for XML: children in another namespace are augmentations and ignored.</summary>
    public static void CheckChildren(XElement parent, XNamespace ns, params string[] known)
    {
        foreach (var child in parent.Elements())
        {
            if (child.Name.Namespace == ns && !known.Contains(child.Name.LocalName, StringComparer.Ordinal))
                throw new SztpException(SztpError.UnknownNode, $"unknown element <{Truncate(child.Name.LocalName)}> in <{parent.Name.LocalName}>");
        }
        var duplicate = parent.Elements().Where(e => e.Name.Namespace == ns).GroupBy(e => e.Name.LocalName)
            .FirstOrDefault(g => g.Count() > 1 && !ListNames.Contains(g.Key));
        if (duplicate is not null)
            throw new SztpException(SztpError.Malformed, $"<{duplicate.Key}> appears more than once in <{parent.Name.LocalName}>");
    }

    // Lists and leaf-lists may repeat; every other node at most once.
    private static readonly string[] ListNames =
        ["bootstrap-server", "download-uri", "image-verification", "ssh-host-key", "trust-anchor-cert", "error"];

    public static string? Text(XElement parent, XNamespace ns, string name) => parent.Element(ns + name)?.Value;

    public static byte[]? Binary(XElement parent, XNamespace ns, string name) => Base64(Text(parent, ns, name), name);

    public static string Truncate(string text) => text.Length <= 64 ? text : string.Concat(text.AsSpan(0, 64), "…");

    public static ushort? Port(string? text, string name)
    {
        if (text is null)
            return null;
        return ushort.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) ? port
            : throw new SztpException(SztpError.Malformed, $"'{name}' is not a port number (0–65535)");
    }
}
