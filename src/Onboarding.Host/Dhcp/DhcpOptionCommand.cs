using Onboarding.Sztp;
namespace Onboarding.Host.Dhcp;

/// <summary>
/// <c>Onboarding.Host dhcp-option https://redirect.example:8443 [more URIs]</c>: prints DHCP option 143/136 for the
/// given bootstrap servers (the order is the order devices try them, RFC 8572 §8.3). Output goes to stdout only on
/// success, so it can be redirected into a file; every refusal is one line on stderr and exit code 2.
/// </summary>
internal static class DhcpOptionCommand
{
    public const string Name = "dhcp-option";

    public static int Run(IReadOnlyList<string> uris, TextWriter output, TextWriter error)
    {
        if (!SztpBootstrapServerList.TryEncode(uris, out var value, out var problem))
        {
            error.WriteLine($"dhcp-option: {problem}");
            error.WriteLine("Usage: Onboarding.Host dhcp-option https://<host>[:<port>] [https://<host>[:<port>] …]");
            return 2;
        }

        if (value.Length > SztpBootstrapServerList.MaxDhcpv4Length)
        {
            error.WriteLine($"dhcp-option: the list takes {value.Length} bytes, more than the {SztpBootstrapServerList.MaxDhcpv4Length} "
                + "of one DHCPv4 option; use fewer or shorter URIs (splitting over several options, RFC 3396, is not supported)");
            return 2;
        }

        output.Write(SztpDhcpSnippets.Render(uris, value));
        return 0;
    }
}
