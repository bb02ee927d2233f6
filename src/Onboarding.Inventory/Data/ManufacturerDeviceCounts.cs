using Microsoft.EntityFrameworkCore;
using Onboarding.Accounts.Contracts;
using Onboarding.Inventory.Contracts;

namespace Onboarding.Inventory.Data;

internal sealed class ManufacturerDeviceCounts(InventoryDbContext db) : IManufacturerDeviceCounts
{
    public async Task<ManufacturerDeviceCount> CountAsync(Guid customerId, Guid manufacturerId, CancellationToken cancellationToken)
    {
        var byState = await db.Devices.AsNoTracking().Where(d => d.CustomerId == customerId && d.ManufacturerId == manufacturerId)
            .GroupBy(d => d.State).Select(g => new { State = g.Key, Count = g.Count() })
            .ToListAsync(cancellationToken);
        return new ManufacturerDeviceCount(
            byState.Sum(s => s.Count),
            byState.Where(s => s.State == DeviceState.Onboarded).Sum(s => s.Count),
            byState.Where(s => s.State == DeviceState.Rejected).Sum(s => s.Count));
    }
}
