using System.Globalization;
using System.Xml.Linq;

namespace Onboarding.Netconf.Messages;

/// <summary>RFC 6241 §8.1 hello: capabilities, and a session-id only when the server sends it.</summary>
public sealed record HelloMessage(NetconfCapabilities Capabilities, uint? SessionId)
{
    private const int MaxCapabilities = 4096;

    public XElement ToXml()
    {
        var hello = new XElement(NetconfXml.Base + "hello",
            new XElement(NetconfXml.Base + "capabilities",
                Capabilities.All.Select(c => new XElement(NetconfXml.Base + "capability", c))));
        if (SessionId is { } id)
            hello.Add(new XElement(NetconfXml.Base + "session-id", id.ToString(CultureInfo.InvariantCulture)));
        return hello;
    }

    public static HelloMessage Parse(XElement root)
    {
        if (root.Name != NetconfXml.Base + "hello")
            throw new NetconfException(NetconfError.Protocol, $"expected <hello> in {NetconfXml.Base}, got <{root.Name.LocalName}>");
        var capabilities = root.Element(NetconfXml.Base + "capabilities")
            ?? throw new NetconfException(NetconfError.Protocol, "hello without <capabilities>");
        var uris = capabilities.Elements(NetconfXml.Base + "capability").Select(c => c.Value.Trim()).ToList();
        if (uris.Count > MaxCapabilities)
            throw new NetconfException(NetconfError.TooLarge, $"hello with more than {MaxCapabilities} capabilities");
        uint? sessionId = null;
        if (root.Element(NetconfXml.Base + "session-id") is { } sid)
        {
            // RFC 6241 §8.1: session-id is a uint32 of at least 1.
            if (!uint.TryParse(sid.Value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) || parsed == 0)
                throw new NetconfException(NetconfError.Protocol, "hello session-id is not an integer 1..4294967295");
            sessionId = parsed;
        }
        return new HelloMessage(new NetconfCapabilities(uris), sessionId);
    }
}
