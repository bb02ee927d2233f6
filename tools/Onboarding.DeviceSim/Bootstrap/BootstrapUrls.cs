using Onboarding.Sztp;

namespace Onboarding.DeviceSim.Bootstrap;

/// <summary>
/// Where a device starts (RFC 8572 §4): a URL given on the command line, a file of them (one per line, as a
/// removable-storage or preconfigured list), or the value of DHCP option 143 (§8.3) in hex, as a DHCP client hands it over.
/// </summary>
internal static class BootstrapUrls
{
    public static IReadOnlyList<Uri> Resolve(IReadOnlyList<string>? urls, string? urlFile, string? dhcpOptionHex)
    {
        var given = (urls?.Count > 0 ? 1 : 0) + (urlFile is null ? 0 : 1) + (dhcpOptionHex is null ? 0 : 1);
        if (given != 1)
            throw new ArgumentException("give exactly one of --url, --url-file or --dhcp-option");
        IEnumerable<string> list;
        if (dhcpOptionHex is not null)
        {
            var hex = new string(dhcpOptionHex.Where(c => c is not (':' or ' ')).ToArray());
            byte[] value;
            try
            {
                value = Convert.FromHexString(hex);
            }
            catch (FormatException)
            {
                throw new ArgumentException("--dhcp-option is not hex (plain or colon-separated, as `Onboarding.Host dhcp-option` prints it)");
            }
            return SztpBootstrapServerList.Decode(value);
        }
        list = urlFile is not null
            ? File.ReadAllLines(urlFile).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))
            : urls!;
        var result = list.Select(Parse).ToList();
        return result.Count > 0 ? result : throw new ArgumentException($"{urlFile} lists no bootstrap server");
    }

    private static Uri Parse(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps
            ? uri : throw new ArgumentException($"'{text}' is not an https URL of a bootstrap server");
}
