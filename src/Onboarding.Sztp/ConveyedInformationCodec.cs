using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Xml;
using System.Xml.Linq;

namespace Onboarding.Sztp;

/// <summary>
/// Encodes and decodes conveyed-information as RFC 7951 JSON (members prefixed <c>ietf-sztp-conveyed-info:</c> at the
/// top) and RFC 7950 XML (namespace <see cref="Namespace"/>). Output is minimal: no null, no empty container, no
/// leaf the module does not define, because strict devices reject anything else (DESIGN.md "Conveyed information").
/// </summary>
public static class ConveyedInformationCodec
{
    public const string Module = "ietf-sztp-conveyed-info";
    public const string Namespace = "urn:ietf:params:xml:ns:yang:ietf-sztp-conveyed-info";
    /// <summary>Boot images, scripts and configuration travel inline; 8 MiB bounds them with room.</summary>
    public const int DefaultMaxBytes = 8 * 1024 * 1024;
    private const int MaxListItems = 64;
    private static readonly XNamespace Ns = Namespace;

    public static byte[] Encode(ConveyedInformation information, SztpEncoding encoding)
    {
        ArgumentNullException.ThrowIfNull(information);
        Validate(information);
        return encoding == SztpEncoding.Json ? EncodeJson(information) : EncodeXml(information);
    }

    public static ConveyedInformation Decode(ReadOnlyMemory<byte> body, SztpEncoding encoding, int maxBytes = DefaultMaxBytes)
    {
        var information = encoding == SztpEncoding.Json ? DecodeJson(body, maxBytes) : DecodeXml(body, maxBytes);
        try
        {
            Validate(information);
        }
        catch (ArgumentException e)
        {
            throw new SztpException(SztpError.Malformed, e.Message, e);
        }
        return information;
    }

    // The YANG constraints that the types alone do not enforce.
    private static void Validate(ConveyedInformation information)
    {
        switch (information)
        {
            case RedirectInformation redirect:
                if (redirect.BootstrapServers.Count == 0)
                    throw new ArgumentException("redirect-information needs at least one bootstrap-server");
                if (redirect.BootstrapServers.Any(s => string.IsNullOrWhiteSpace(s.Address)))
                    throw new ArgumentException("a bootstrap-server needs an address (the list key)");
                if (redirect.BootstrapServers.GroupBy(s => s.Address, StringComparer.Ordinal).Any(g => g.Count() > 1))
                    throw new ArgumentException("bootstrap-server addresses must be unique (the list key)");
                break;
            case OnboardingInformation onboarding:
                // RFC 8572 §6.3: must "../configuration-handling" on configuration.
                if (onboarding.Configuration is not null && onboarding.ConfigurationHandling is null)
                    throw new ArgumentException("configuration requires configuration-handling");
                if (onboarding.BootImage is { } image && image.ImageVerifications.Count > 0 && image.DownloadUris.Count == 0)
                    throw new ArgumentException("image-verification requires download-uri");
                break;
            default:
                throw new ArgumentException($"unknown conveyed information {information.GetType().Name}");
        }
    }

    private static byte[] EncodeJson(ConveyedInformation information)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            switch (information)
            {
                case RedirectInformation redirect:
                    json.WriteStartObject($"{Module}:redirect-information");
                    json.WriteStartArray("bootstrap-server");
                    foreach (var server in redirect.BootstrapServers)
                    {
                        json.WriteStartObject();
                        json.WriteString("address", server.Address);
                        // RFC 7951 §6.1: uint16 is a JSON number.
                        if (server.Port is { } port)
                            json.WriteNumber("port", port);
                        if (server.TrustAnchor is { } anchor)
                            json.WriteBase64String("trust-anchor", anchor);
                        json.WriteEndObject();
                    }
                    json.WriteEndArray();
                    json.WriteEndObject();
                    break;
                case OnboardingInformation onboarding:
                    json.WriteStartObject($"{Module}:onboarding-information");
                    if (onboarding.BootImage is { } image)
                    {
                        json.WriteStartObject("boot-image");
                        if (image.OsName is not null)
                            json.WriteString("os-name", image.OsName);
                        if (image.OsVersion is not null)
                            json.WriteString("os-version", image.OsVersion);
                        if (image.DownloadUris.Count > 0)
                        {
                            json.WriteStartArray("download-uri");
                            foreach (var uri in image.DownloadUris)
                                json.WriteStringValue(uri);
                            json.WriteEndArray();
                        }
                        if (image.ImageVerifications.Count > 0)
                        {
                            json.WriteStartArray("image-verification");
                            foreach (var check in image.ImageVerifications)
                            {
                                json.WriteStartObject();
                                // RFC 7951 §6.8: an identityref carries its module prefix.
                                json.WriteString("hash-algorithm", $"{Module}:{check.HashAlgorithm}");
                                json.WriteString("hash-value", check.HashValue);
                                json.WriteEndObject();
                            }
                            json.WriteEndArray();
                        }
                        json.WriteEndObject();
                    }
                    if (onboarding.ConfigurationHandling is { } handling)
                        json.WriteString("configuration-handling", Name(handling));
                    if (onboarding.PreConfigurationScript is { } pre)
                        json.WriteBase64String("pre-configuration-script", pre);
                    if (onboarding.Configuration is { } configuration)
                        json.WriteBase64String("configuration", configuration);
                    if (onboarding.PostConfigurationScript is { } post)
                        json.WriteBase64String("post-configuration-script", post);
                    json.WriteEndObject();
                    break;
            }
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] EncodeXml(ConveyedInformation information)
    {
        XElement root = information switch
        {
            RedirectInformation redirect => new XElement(Ns + "redirect-information",
                redirect.BootstrapServers.Select(s => new XElement(Ns + "bootstrap-server",
                    new XElement(Ns + "address", s.Address),
                    s.Port is { } port ? new XElement(Ns + "port", port.ToString(CultureInfo.InvariantCulture)) : null,
                    s.TrustAnchor is { } anchor ? new XElement(Ns + "trust-anchor", Convert.ToBase64String(anchor)) : null))),
            OnboardingInformation onboarding => new XElement(Ns + "onboarding-information",
                onboarding.BootImage is { } image ? new XElement(Ns + "boot-image",
                    image.OsName is null ? null : new XElement(Ns + "os-name", image.OsName),
                    image.OsVersion is null ? null : new XElement(Ns + "os-version", image.OsVersion),
                    image.DownloadUris.Select(u => new XElement(Ns + "download-uri", u)),
                    // RFC 7950 §9.10.3: an identityref in XML is a QName whose prefix is declared on the element.
                    image.ImageVerifications.Select(v => new XElement(Ns + "image-verification",
                        new XElement(Ns + "hash-algorithm", new XAttribute(XNamespace.Xmlns + "sztp-info", Namespace),
                            $"sztp-info:{v.HashAlgorithm}"),
                        new XElement(Ns + "hash-value", v.HashValue)))) : null,
                onboarding.ConfigurationHandling is { } handling ? new XElement(Ns + "configuration-handling", Name(handling)) : null,
                Base64Element("pre-configuration-script", onboarding.PreConfigurationScript),
                Base64Element("configuration", onboarding.Configuration),
                Base64Element("post-configuration-script", onboarding.PostConfigurationScript)),
            _ => throw new ArgumentException("unknown conveyed information"),
        };
        return WriteXml(root);
    }

    internal static byte[] WriteXml(XElement root)
    {
        using var stream = new MemoryStream();
        var settings = new XmlWriterSettings { OmitXmlDeclaration = true, Encoding = new UTF8Encoding(false) };
        using (var writer = XmlWriter.Create(stream, settings))
            root.WriteTo(writer);
        return stream.ToArray();
    }

    private static XElement? Base64Element(string name, byte[]? value) =>
        value is null ? null : new XElement(Ns + name, Convert.ToBase64String(value));

    private static string Name(ConfigurationHandling handling) =>
        handling == Onboarding.Sztp.ConfigurationHandling.Merge ? "merge" : "replace";

    private static ConfigurationHandling? Handling(string? text) => text switch
    {
        null => null,
        "merge" => Onboarding.Sztp.ConfigurationHandling.Merge,
        "replace" => Onboarding.Sztp.ConfigurationHandling.Replace,
        _ => throw new SztpException(SztpError.UnknownNode, $"configuration-handling '{YangInput.Truncate(text)}' is neither merge nor replace"),
    };

    private static string HashAlgorithm(string? text)
    {
        var value = text ?? throw new SztpException(SztpError.Malformed, "image-verification needs hash-algorithm");
        var colon = value.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? value : value[(colon + 1)..];
    }

    private static ConveyedInformation DecodeJson(ReadOnlyMemory<byte> body, int maxBytes)
    {
        using var document = YangInput.ParseJson(body, maxBytes);
        var redirectName = $"{Module}:redirect-information";
        var top = YangInput.TopLevel(document, redirectName, $"{Module}:onboarding-information");
        if (document.RootElement.TryGetProperty(redirectName, out _))
        {
            YangInput.CheckMembers(top, "redirect-information", "bootstrap-server");
            var servers = YangInput.Array(top, "bootstrap-server", MaxListItems).Select(s =>
            {
                YangInput.RequireObject(s, "bootstrap-server");
                YangInput.CheckMembers(s, "bootstrap-server", "address", "port", "trust-anchor");
                ushort? port = null;
                if (s.TryGetProperty("port", out var p))
                    port = p.ValueKind == JsonValueKind.Number && p.TryGetUInt16(out var value) ? value
                        : throw new SztpException(SztpError.Malformed, "'port' is not a port number (0–65535)");
                return new BootstrapServer(
                    YangInput.String(s, "address") ?? throw new SztpException(SztpError.Malformed, "bootstrap-server without address"),
                    port, YangInput.Binary(s, "trust-anchor"));
            }).ToList();
            return new RedirectInformation(servers);
        }
        YangInput.CheckMembers(top, "onboarding-information", "boot-image", "configuration-handling",
            "pre-configuration-script", "configuration", "post-configuration-script");
        BootImage? image = null;
        if (top.TryGetProperty("boot-image", out var b))
        {
            YangInput.RequireObject(b, "boot-image");
            YangInput.CheckMembers(b, "boot-image", "os-name", "os-version", "download-uri", "image-verification");
            image = new BootImage(YangInput.String(b, "os-name"), YangInput.String(b, "os-version"),
                YangInput.Array(b, "download-uri", MaxListItems).Select(u => u.ValueKind == JsonValueKind.String ? u.GetString()!
                    : throw new SztpException(SztpError.Malformed, "download-uri must be strings")).ToList(),
                YangInput.Array(b, "image-verification", MaxListItems).Select(v =>
                {
                    YangInput.RequireObject(v, "image-verification");
                    YangInput.CheckMembers(v, "image-verification", "hash-algorithm", "hash-value");
                    return new ImageVerification(HashAlgorithm(YangInput.String(v, "hash-algorithm")),
                        YangInput.String(v, "hash-value") ?? throw new SztpException(SztpError.Malformed, "image-verification needs hash-value"));
                }).ToList());
        }
        return new OnboardingInformation(image, Handling(YangInput.String(top, "configuration-handling")),
            YangInput.Binary(top, "pre-configuration-script"), YangInput.Binary(top, "configuration"),
            YangInput.Binary(top, "post-configuration-script"));
    }

    private static ConveyedInformation DecodeXml(ReadOnlyMemory<byte> body, int maxBytes)
    {
        var root = YangInput.ParseXml(body, maxBytes);
        if (root.Name == Ns + "redirect-information")
        {
            YangInput.CheckChildren(root, Ns, "bootstrap-server");
            var servers = root.Elements(Ns + "bootstrap-server").Take(MaxListItems + 1).Select(s =>
            {
                YangInput.CheckChildren(s, Ns, "address", "port", "trust-anchor");
                return new BootstrapServer(
                    YangInput.Text(s, Ns, "address") ?? throw new SztpException(SztpError.Malformed, "bootstrap-server without address"),
                    YangInput.Port(YangInput.Text(s, Ns, "port"), "port"), YangInput.Binary(s, Ns, "trust-anchor"));
            }).ToList();
            if (servers.Count > MaxListItems)
                throw new SztpException(SztpError.TooLarge, $"more than {MaxListItems} bootstrap servers");
            return new RedirectInformation(servers);
        }
        YangInput.CheckRoot(root, Ns, "onboarding-information");
        YangInput.CheckChildren(root, Ns, "boot-image", "configuration-handling",
            "pre-configuration-script", "configuration", "post-configuration-script");
        BootImage? image = null;
        if (root.Element(Ns + "boot-image") is { } b)
        {
            YangInput.CheckChildren(b, Ns, "os-name", "os-version", "download-uri", "image-verification");
            var uris = b.Elements(Ns + "download-uri").Select(u => u.Value).ToList();
            var checks = b.Elements(Ns + "image-verification").Select(v =>
            {
                YangInput.CheckChildren(v, Ns, "hash-algorithm", "hash-value");
                return new ImageVerification(HashAlgorithm(YangInput.Text(v, Ns, "hash-algorithm")),
                    YangInput.Text(v, Ns, "hash-value") ?? throw new SztpException(SztpError.Malformed, "image-verification needs hash-value"));
            }).ToList();
            if (uris.Count > MaxListItems || checks.Count > MaxListItems)
                throw new SztpException(SztpError.TooLarge, $"boot-image lists hold at most {MaxListItems} entries");
            image = new BootImage(YangInput.Text(b, Ns, "os-name"), YangInput.Text(b, Ns, "os-version"), uris, checks);
        }
        return new OnboardingInformation(image, Handling(YangInput.Text(root, Ns, "configuration-handling")),
            YangInput.Binary(root, Ns, "pre-configuration-script"), YangInput.Binary(root, Ns, "configuration"),
            YangInput.Binary(root, Ns, "post-configuration-script"));
    }
}
