using System.Security.Cryptography.X509Certificates;
using Microsoft.EntityFrameworkCore;
using Onboarding.Redirect.Data;
using Onboarding.Redirect.Serials;
using Onboarding.ServiceDefaults.Security;

namespace Onboarding.Redirect.Bootstrap;

/// <summary>A device type as the device authentication needs it: its parsed factory CAs and its serial rule.</summary>
internal sealed record FactoryDeviceType(Guid Id, Guid ManufacturerId, string Name, SerialRule Rule, X509Certificate2Collection Cas);

/// <summary>
/// Which device types' factory CAs an IDevID chains to. The CAs are parsed once and kept until the device types change
/// (a count and the newest creation time, read per request: device types are only ever added), so a device costs one
/// small query and a chain build per candidate, and candidates are only the types holding a CA whose subject issued the
/// certificate or one of the intermediates the device sent.
/// </summary>
internal sealed class FactoryTrust(TimeProvider clock)
{
    private readonly Lock _gate = new();
    private Snapshot? _snapshot;

    private sealed record Snapshot(int Count, DateTimeOffset? Newest, IReadOnlyDictionary<string, List<FactoryDeviceType>> BySubject);

    /// <summary>The device types (of <paramref name="manufacturerId"/> only, when given) whose CA the certificate chains to now.</summary>
    public async Task<IReadOnlyList<FactoryDeviceType>> MatchAsync(RedirectDbContext db, X509Certificate2 certificate,
        IReadOnlyList<X509Certificate2> intermediates, Guid? manufacturerId, CancellationToken cancellationToken)
    {
        var snapshot = await CurrentAsync(db, cancellationToken);
        var issuers = new HashSet<string>(StringComparer.Ordinal) { Key(certificate.IssuerName) };
        foreach (var intermediate in intermediates)
        {
            issuers.Add(Key(intermediate.IssuerName));
            issuers.Add(Key(intermediate.SubjectName));
        }

        var candidates = issuers.SelectMany(i => snapshot.BySubject.TryGetValue(i, out var types) ? types : [])
            .Where(t => manufacturerId is null || t.ManufacturerId == manufacturerId).Distinct().ToList();
        var now = clock.GetUtcNow();
        // A path from the certificate to one of the type's CAs, every certificate valid now; no revocation fetch (devices are offline-built).
        return [.. candidates.Where(t => CertificateChains.Verify(certificate, intermediates, t.Cas, now) is null)];
    }

    /// <summary>Forgets the parsed CAs (a device type was added on this host; other hosts notice by the count).</summary>
    public void Invalidate()
    {
        lock (_gate)
            _snapshot = null;
    }

    private async Task<Snapshot> CurrentAsync(RedirectDbContext db, CancellationToken cancellationToken)
    {
        // One group at most (none when there are no device types).
        var stamp = await db.DeviceTypes.GroupBy(_ => 1)
            .Select(g => new { Count = g.Count(), Newest = (DateTimeOffset?)g.Max(t => t.CreatedAt) })
            .SingleOrDefaultAsync(cancellationToken);
        var count = stamp?.Count ?? 0;
        var newest = stamp?.Newest;
        var current = _snapshot;
        if (current is not null && current.Count == count && current.Newest == newest)
            return current;

        var types = await db.DeviceTypes.AsNoTracking().ToListAsync(cancellationToken);
        var bySubject = new Dictionary<string, List<FactoryDeviceType>>(StringComparer.Ordinal);
        foreach (var type in types)
        {
            var cas = new X509Certificate2Collection();
            cas.ImportFromPem(type.CaPem);
            var entry = new FactoryDeviceType(type.Id, type.ManufacturerId, type.Name, new SerialRule(type.SerialSource, type.SerialPattern), cas);
            foreach (var ca in cas)
            {
                var key = Key(ca.SubjectName);
                if (!bySubject.TryGetValue(key, out var list))
                    bySubject[key] = list = [];
                if (!list.Contains(entry))
                    list.Add(entry);
            }
        }

        var snapshot = new Snapshot(count, newest, bySubject);
        lock (_gate)
            _snapshot = snapshot;
        return snapshot;
    }

    private static string Key(X500DistinguishedName name) => Convert.ToHexString(name.RawData);
}
