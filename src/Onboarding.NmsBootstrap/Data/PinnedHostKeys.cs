using Microsoft.EntityFrameworkCore;
using Onboarding.Inventory.Contracts;
using Onboarding.NmsBootstrap.Contracts;

namespace Onboarding.NmsBootstrap.Data;

internal sealed class PinnedHostKeys(NmsBootstrapDbContext db) : IPinnedHostKeys
{
    public async Task<IReadOnlyList<PinnedHostKey>> GetAsync(DeviceId deviceId, CancellationToken cancellationToken) =>
        await db.DeviceHostKeys.AsNoTracking().Where(k => k.DeviceId == deviceId).OrderBy(k => k.Algorithm).ThenBy(k => k.Fingerprint)
            .Select(k => new PinnedHostKey(k.Algorithm, k.KeyData, k.Fingerprint, k.PinnedAt))
            .ToListAsync(cancellationToken);

    public async Task<IReadOnlyList<DeviceId>> FindDevicesAsync(string fingerprint, CancellationToken cancellationToken) =>
        await db.DeviceHostKeys.AsNoTracking().Where(k => k.Fingerprint == fingerprint).Select(k => k.DeviceId).Distinct()
            .ToListAsync(cancellationToken);

    /// <summary>
    /// Replaces the device's pinned keys with <paramref name="keys"/> in one transaction: a device that bootstraps again
    /// (factory reset, new keys) is known by its new keys only.
    /// </summary>
    public async Task ReplaceAsync(DeviceId deviceId, IReadOnlyList<DeviceHostKey> keys, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // Two reports of one device at once: the second waits for the first's commit, then replaces its keys.
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtextextended({deviceId.ToString()}, 0))", cancellationToken);
        await db.DeviceHostKeys.Where(k => k.DeviceId == deviceId).ExecuteDeleteAsync(cancellationToken);
        db.DeviceHostKeys.AddRange(keys);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }
}
