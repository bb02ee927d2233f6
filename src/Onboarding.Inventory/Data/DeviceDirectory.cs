using Microsoft.EntityFrameworkCore;
using Onboarding.Inventory.Contracts;

namespace Onboarding.Inventory.Data;

internal sealed class DeviceDirectory(InventoryDbContext db) : IDeviceDirectory
{
    public async Task<IReadOnlyList<DeviceIdentity>> FindBySerialAsync(string serialNumber, CancellationToken cancellationToken) =>
        await Identities(db.Devices.Where(d => d.SerialNumber == serialNumber)).ToListAsync(cancellationToken);

    public Task<DeviceIdentity?> FindAsync(Guid customerId, string serialNumber, CancellationToken cancellationToken) =>
        Identities(db.Devices.Where(d => d.CustomerId == customerId && d.SerialNumber == serialNumber)).SingleOrDefaultAsync(cancellationToken);

    public Task<DeviceIdentity?> GetAsync(DeviceId deviceId, CancellationToken cancellationToken) =>
        Identities(db.Devices.Where(d => d.Id == deviceId)).SingleOrDefaultAsync(cancellationToken);

    public async Task<IReadOnlyList<DeviceIdentity>> FindByPublicKeySha256Async(string publicKeySha256, CancellationToken cancellationToken)
    {
        if (publicKeySha256.Length != 64 || !publicKeySha256.All(char.IsAsciiHexDigit))
            throw new ArgumentException("A public key SHA-256 is 64 hex digits.", nameof(publicKeySha256));
        var key = publicKeySha256.ToLowerInvariant();
        return await Identities(db.Devices.Where(d => d.PublicKeySha256 == key)).ToListAsync(cancellationToken);
    }

    public Task<byte[]?> GetCertificateAsync(DeviceId deviceId, CancellationToken cancellationToken) =>
        db.Devices.AsNoTracking().Where(d => d.Id == deviceId).Select(d => d.CertificateDer).SingleOrDefaultAsync(cancellationToken)!;

    private static IQueryable<DeviceIdentity> Identities(IQueryable<Device> devices) =>
        devices.AsNoTracking().OrderBy(d => d.Id)
            .Select(d => new DeviceIdentity(d.Id, d.CustomerId, d.ManufacturerId, d.SerialNumber, d.Model, d.State));
}
