using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace Onboarding.Netconf.Messages;

/// <summary>Names and the hostile-input-safe XML reader every NETCONF message goes through.</summary>
public static class NetconfXml
{
    /// <summary>RFC 6241 §3.1: the base namespace of hello, rpc, rpc-reply and the operation attribute.</summary>
    public static readonly XNamespace Base = "urn:ietf:params:xml:ns:netconf:base:1.0";

    /// <summary>RFC 5277 §4: event notifications, which may arrive between replies.</summary>
    public static readonly XNamespace Notification = "urn:ietf:params:xml:ns:netconf:notification:1.0";

    public const int MaxDepth = 64;

    /// <summary>
    /// Parses one message: no DTD (an entity bomb or external entity is refused), no resolver, bounded size and depth.
    /// The body came from a device that is not yet trusted.
    /// </summary>
    public static XElement Parse(ReadOnlySpan<byte> message, int maxBytes)
    {
        if (message.Length > maxBytes)
            throw new NetconfException(NetconfError.TooLarge, $"message of {message.Length} bytes exceeds the limit of {maxBytes}");
        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            MaxCharactersInDocument = maxBytes,
            IgnoreComments = true,
            IgnoreProcessingInstructions = true,
            IgnoreWhitespace = true,
        };
        try
        {
            using var stream = new MemoryStream(message.ToArray(), writable: false);
            using var reader = XmlReader.Create(stream, settings);
            var root = XDocument.Load(reader).Root ?? throw new NetconfException(NetconfError.MalformedXml, "empty XML document");
            if (Depth(root) > MaxDepth)
                throw new NetconfException(NetconfError.MalformedXml, $"XML nested deeper than {MaxDepth} levels");
            return root;
        }
        catch (XmlException e)
        {
            throw new NetconfException(NetconfError.MalformedXml, $"not well-formed XML: {e.Message}", e);
        }
    }

    /// <summary>Parses caller-supplied XML text (an RPC typed into the sessions API) with the same rules.</summary>
    public static XElement Parse(string xml, int maxBytes) => Parse(Encoding.UTF8.GetBytes(xml), maxBytes);

    /// <summary>UTF-8 without a BOM or XML declaration: RFC 6241 §3 requires UTF-8, and some devices choke on a BOM.</summary>
    public static byte[] Serialize(XElement element)
    {
        var settings = new XmlWriterSettings { Encoding = new UTF8Encoding(false), OmitXmlDeclaration = true, Indent = false };
        using var output = new MemoryStream();
        using (var writer = XmlWriter.Create(output, settings))
            element.WriteTo(writer);
        return output.ToArray();
    }

    private static int Depth(XElement element)
    {
        // Iterative: a hostile document must not overflow the stack before the bound is checked.
        var max = 0;
        var stack = new Stack<(XElement Element, int Depth)>();
        stack.Push((element, 1));
        while (stack.Count > 0)
        {
            var (e, d) = stack.Pop();
            max = Math.Max(max, d);
            if (max > MaxDepth)
                return max;
            foreach (var child in e.Elements())
                stack.Push((child, d + 1));
        }
        return max;
    }
}
