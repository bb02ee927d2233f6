using Microsoft.EntityFrameworkCore;
using Onboarding.Inventory.Contracts;

namespace Onboarding.Telemetry.Data;

/// <summary>The telemetry device row behind every issuance, whoever issues (the admin API or delivery over call home).</summary>
internal static class TelemetryDeviceRows
{
    /// <summary>
    /// The device's row, tracked; a new one (with the next device name) is added when it has none. A concurrent first
    /// issuance for the same device makes SaveChanges fail with a unique violation: the caller clears and tries again.
    /// </summary>
    public static async Task<TelemetryDevice> GetOrAddAsync(TelemetryDbContext db, DeviceIdentity identity, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var device = await db.Devices.SingleOrDefaultAsync(d => d.DeviceId == identity.Id, cancellationToken);
        if (device is null)
        {
            var name = await db.Database.SqlQuery<long>($"SELECT nextval('telemetry.device_name_seq') AS \"Value\"").SingleAsync(cancellationToken);
            device = new TelemetryDevice { DeviceId = identity.Id, SerialNumber = identity.SerialNumber, CustomerId = identity.CustomerId, DeviceName = name, CreatedAt = now };
            db.Devices.Add(device);
        }

        device.CustomerId = identity.CustomerId;
        device.RevokedAt = null;
        return device;
    }
}
