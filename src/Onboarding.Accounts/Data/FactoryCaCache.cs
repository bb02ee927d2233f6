using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;

namespace Onboarding.Accounts.Data;

/// <summary>
/// The parsed factory CAs of each manufacturer, keyed by the PEM they were parsed from: every device request checks its
/// chain against them (NMS bootstrap, call home, the SFTP drop), and parsing the PEM each time cost more than the query
/// that reads it (bench/README.md, onboard). The PEM is still read per request, so a CA the owner replaced is used from
/// the next request on, on every host. The collections are shared: callers read them and never modify or dispose them.
/// </summary>
internal sealed class FactoryCaCache
{
    private readonly ConcurrentDictionary<Guid, Parsed> _byManufacturer = new();

    public X509Certificate2Collection Get(Guid manufacturerId, string? pem)
    {
        if (string.IsNullOrEmpty(pem))
        {
            _byManufacturer.TryRemove(manufacturerId, out _);
            return [];
        }

        if (_byManufacturer.TryGetValue(manufacturerId, out var parsed) && string.Equals(parsed.Pem, pem, StringComparison.Ordinal))
            return parsed.Certificates;
        var certificates = new X509Certificate2Collection();
        certificates.ImportFromPem(pem);
        _byManufacturer[manufacturerId] = new Parsed(pem, certificates);
        return certificates;
    }

    private sealed record Parsed(string Pem, X509Certificate2Collection Certificates);
}
