using Microsoft.EntityFrameworkCore;
using Onboarding.Inventory.Contracts;

namespace Onboarding.Inventory.Data;

internal sealed class DeviceDirectory(InventoryDbContext db) : IDeviceDirectory
{
    public async Task<IReadOnlyList<DeviceIdentity>> FindBySerialAsync(string serialNumber, CancellationToken cancellationToken) =>
        await db.Devices.AsNoTracking().Where(d => d.SerialNumber == serialNumber)
            .Select(d => new DeviceIdentity(d.CustomerId, d.SerialNumber, d.Model, d.State))
            .ToListAsync(cancellationToken);

    public Task<DeviceIdentity?> FindAsync(Guid customerId, string serialNumber, CancellationToken cancellationToken) =>
        db.Devices.AsNoTracking().Where(d => d.CustomerId == customerId && d.SerialNumber == serialNumber)
            .Select(d => new DeviceIdentity(d.CustomerId, d.SerialNumber, d.Model, d.State))
            .SingleOrDefaultAsync(cancellationToken);
}
