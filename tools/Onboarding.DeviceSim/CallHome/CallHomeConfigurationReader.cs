using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;
using Onboarding.Ssh.Keys;

namespace Onboarding.DeviceSim.CallHome;

/// <summary>
/// Reads the call-home part of an onboarding-information configuration, in the two forms the NMS renders
/// (src/Onboarding.NmsBootstrap/Answers/CallHomeConfiguration.cs): ietf-netconf-server XML
/// (<c>netconf-server/call-home/netconf-client/endpoints/endpoint/ssh</c>) or Junos text
/// (<c>system services outbound-ssh client</c> and the login user's key). Null when the configuration says nothing
/// about calling home; a device then needs <c>--nms</c> and <c>--nms-key</c>.
/// </summary>
internal static partial class CallHomeConfigurationReader
{
    private static readonly XNamespace NetconfServer = "urn:ietf:params:xml:ns:yang:ietf-netconf-server";

    /// <summary>RFC 8071 §3.1: the IANA port for NETCONF call home over SSH.</summary>
    public const int NetconfCallHomePort = 4334;

    public static CallHomeTarget? Read(string configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return configuration.TrimStart().StartsWith('<') ? ReadNetconf(configuration) : ReadJunos(configuration);
    }

    private static CallHomeTarget? ReadNetconf(string xml)
    {
        XDocument document;
        try
        {
            using var reader = XmlReader.Create(new StringReader(xml), new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
            document = XDocument.Load(reader);
        }
        catch (XmlException)
        {
            return null;
        }
        var ssh = document.Descendants(NetconfServer + "call-home").Descendants(NetconfServer + "endpoint").Elements(NetconfServer + "ssh").FirstOrDefault();
        var tcp = ssh?.Element(NetconfServer + "tcp-client-parameters");
        var host = tcp?.Element(NetconfServer + "remote-address")?.Value.Trim();
        if (ssh is null || string.IsNullOrEmpty(host))
            return null;
        var port = int.TryParse(tcp!.Element(NetconfServer + "remote-port")?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : NetconfCallHomePort;
        var user = ssh.Descendants(NetconfServer + "users").Elements(NetconfServer + "user").FirstOrDefault();
        // public-keys/inline-definition/public-key (a list entry) / public-key (the leaf: the RFC 4253 §6.6 blob in base64).
        var blob = user?.Descendants(NetconfServer + "public-key").Elements(NetconfServer + "public-key").FirstOrDefault()?.Value.Trim();
        return new CallHomeTarget(CallHomeStyle.Netconf, host, port, user?.Element(NetconfServer + "name")?.Value.Trim(), KeyLine(blob), null);
    }

    private static CallHomeTarget? ReadJunos(string text)
    {
        var outbound = OutboundSshBlock().Match(text);
        if (!outbound.Success)
            return null;
        var block = outbound.Value;
        var endpoint = JunosEndpoint().Match(block);
        if (!endpoint.Success)
            return null;
        var secret = JunosSecret().Match(block);
        var user = JunosUser().Match(text);
        var key = JunosKey().Match(text);
        return new CallHomeTarget(CallHomeStyle.Junos, endpoint.Groups["host"].Value,
            int.Parse(endpoint.Groups["port"].Value, CultureInfo.InvariantCulture),
            user.Success ? user.Groups["user"].Value : null,
            key.Success ? Unquote(key.Groups["key"].Value) : null,
            secret.Success ? Unquote(secret.Groups["secret"].Value) : null);
    }

    private static string? KeyLine(string? base64)
    {
        if (string.IsNullOrEmpty(base64))
            return null;
        try
        {
            return SshPublicKey.Parse(Convert.FromBase64String(base64)).ToAuthorizedKeysLine();
        }
        catch (Exception e) when (e is FormatException or Onboarding.Ssh.SshProtocolException)
        {
            return null;
        }
    }

    private static string Unquote(string value) => value.Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);

    [GeneratedRegex(@"outbound-ssh\s*\{.*", RegexOptions.Singleline)]
    private static partial Regex OutboundSshBlock();

    /// <summary>Junos: "&lt;address&gt; port &lt;port&gt;;" inside the client block.</summary>
    [GeneratedRegex(@"^\s*(?<host>[^\s{};""]+)\s+port\s+(?<port>\d{1,5})\s*;", RegexOptions.Multiline)]
    private static partial Regex JunosEndpoint();

    [GeneratedRegex(@"\bsecret\s+""(?<secret>(?:[^""\\]|\\.)*)""\s*;")]
    private static partial Regex JunosSecret();

    [GeneratedRegex(@"\buser\s+(?<user>[^\s{]+)\s*\{")]
    private static partial Regex JunosUser();

    [GeneratedRegex(@"\b(?:ssh-ed25519|ssh-ecdsa|ssh-rsa)\s+""(?<key>(?:[^""\\]|\\.)*)""\s*;")]
    private static partial Regex JunosKey();
}
