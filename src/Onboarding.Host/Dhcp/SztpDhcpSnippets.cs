using System.Text;

namespace Onboarding.Host.Dhcp;

/// <summary>
/// What <c>dhcp-option</c> prints: the option value in hex, and configuration for ISC Kea and dnsmasq that sends it.
/// Sections are separated by one blank line and start with a <c>#</c> comment, which both Kea and dnsmasq read as a
/// comment, so each section can be pasted as it is.
/// </summary>
internal static class SztpDhcpSnippets
{
    /// <summary>RFC 8572 §8.1 (IANA "BOOTP Vendor Extensions and DHCP Options").</summary>
    public const int Dhcpv4OptionCode = 143;

    /// <summary>RFC 8572 §8.2 (IANA "Option Codes" of DHCPv6).</summary>
    public const int Dhcpv6OptionCode = 136;

    /// <summary>Lower-case hex with a colon between octets: what dnsmasq reads as bytes, and Kea's "data" also takes.</summary>
    public static string ColonHex(ReadOnlySpan<byte> value) => string.Join(':', value.ToArray().Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));

    public static string Render(IReadOnlyList<string> uris, byte[] value)
    {
        var hex = Convert.ToHexStringLower(value);
        var colon = ColonHex(value);
        var text = new StringBuilder();
        text.Append("# SZTP bootstrap-server list (RFC 8572 §8.3): ").Append(uris.Count).Append(uris.Count == 1 ? " URI, " : " URIs, ")
            .Append(value.Length).Append(" bytes; DHCPv4 option 143, DHCPv6 option 136\n");
        foreach (var uri in uris)
            text.Append("#   ").Append(uri).Append('\n');
        text.Append("hex: ").Append(hex).Append('\n');
        text.Append("colon-separated: ").Append(colon).Append('\n');
        text.Append('\n');
        // Without an option-def: Kea sends a code it has no definition for as the raw bytes given (csv-format false), so
        // the snippet also works on a Kea that ships its own definition of these codes. always-send covers devices that
        // do not list the code in their Parameter Request List (RFC 8572 §8.1 only says they SHOULD).
        text.Append("# ISC Kea, kea-dhcp4.conf: merge into \"Dhcp4\" (or a subnet's \"option-data\")\n");
        text.Append(KeaConfig("Dhcp4", "dhcp4", Dhcpv4OptionCode, hex));
        text.Append('\n');
        text.Append("# ISC Kea, kea-dhcp6.conf: merge into \"Dhcp6\" (or a subnet's \"option-data\")\n");
        text.Append(KeaConfig("Dhcp6", "dhcp6", Dhcpv6OptionCode, hex));
        text.Append('\n');
        // dhcp-option-force: sent even when the client did not ask for it, like always-send above.
        text.Append("# dnsmasq.conf\n");
        text.Append("dhcp-option-force=").Append(Dhcpv4OptionCode).Append(',').Append(colon).Append('\n');
        text.Append("dhcp-option=option6:").Append(Dhcpv6OptionCode).Append(',').Append(colon).Append('\n');
        return text.ToString();
    }

    private static string KeaConfig(string server, string space, int code, string hex) =>
        $$"""
        {
          "{{server}}": {
            "option-data": [
              { "code": {{code}}, "space": "{{space}}", "csv-format": false, "always-send": true, "data": "{{hex}}" }
            ]
          }
        }

        """.ReplaceLineEndings("\n");
}
