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

    public async Task<IReadOnlyList<DeviceIdentity>> FindByPublicKeySha256Async(string publicKeySha256, CancellationToken cancellationToken) =>
        await Identities(WithKey(publicKeySha256)).ToListAsync(cancellationToken);

    public async Task<IReadOnlyList<DeviceKeyHolder>> FindKeyHoldersAsync(string publicKeySha256, CancellationToken cancellationToken) =>
        await WithKey(publicKeySha256).AsNoTracking().OrderBy(d => d.Id)
            .Select(d => new DeviceKeyHolder(new DeviceIdentity(d.Id, d.CustomerId, d.ManufacturerId, d.SerialNumber, d.Model, d.State), d.CertificateSha256))
            .ToListAsync(cancellationToken);

    private IQueryable<Device> WithKey(string publicKeySha256)
    {
        if (publicKeySha256.Length != 64 || !publicKeySha256.All(char.IsAsciiHexDigit))
            throw new ArgumentException("A public key SHA-256 is 64 hex digits.", nameof(publicKeySha256));
        var key = publicKeySha256.ToLowerInvariant();
        return db.Devices.Where(d => d.PublicKeySha256 == key);
    }

    public Task<byte[]?> GetCertificateAsync(DeviceId deviceId, CancellationToken cancellationToken) =>
        db.Devices.AsNoTracking().Where(d => d.Id == deviceId).Select(d => d.CertificateDer).SingleOrDefaultAsync(cancellationToken)!;

    private static IQueryable<DeviceIdentity> Identities(IQueryable<Device> devices) =>
        devices.AsNoTracking().OrderBy(d => d.Id)
            .Select(d => new DeviceIdentity(d.Id, d.CustomerId, d.ManufacturerId, d.SerialNumber, d.Model, d.State));
}
