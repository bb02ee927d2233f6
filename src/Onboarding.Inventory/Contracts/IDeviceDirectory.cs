namespace Onboarding.Inventory.Contracts;

/// <summary>Read-only look-ups of bookkept devices for other modules, so they never read inventory tables.</summary>
public interface IDeviceDirectory
{
    /// <summary>Every customer's device with this serial number (normally one; several only if two customers bookkept the same serial).</summary>
    Task<IReadOnlyList<DeviceIdentity>> FindBySerialAsync(string serialNumber, CancellationToken cancellationToken);

    /// <summary>The customer's device with this serial number, or null: serial look-ups are always scoped to someone.</summary>
    Task<DeviceIdentity?> FindAsync(Guid customerId, string serialNumber, CancellationToken cancellationToken);

    /// <summary>The device with this id, or null.</summary>
    Task<DeviceIdentity?> GetAsync(DeviceId deviceId, CancellationToken cancellationToken);

    /// <summary>
    /// Every device whose IDevID certificate carries this public key: the lower-case hex SHA-256 of the DER
    /// SubjectPublicKeyInfo, which is what a device presents at call home (its host key, or an RFC 6187 certificate).
    /// </summary>
    Task<IReadOnlyList<DeviceIdentity>> FindByPublicKeySha256Async(string publicKeySha256, CancellationToken cancellationToken);

    /// <summary>
    /// <see cref="FindByPublicKeySha256Async"/> with the lower-case hex SHA-256 of each device's bookkept certificate,
    /// in one query: a device presenting a certificate is the one whose bookkept certificate has the same hash.
    /// </summary>
    Task<IReadOnlyList<DeviceKeyHolder>> FindKeyHoldersAsync(string publicKeySha256, CancellationToken cancellationToken);

    /// <summary>
    /// The DER of the IDevID certificate the device was bookkept with, or null for an unknown id: a device that
    /// authenticates with a certificate must present exactly this one (same key, same issuer, same everything).
    /// </summary>
    Task<byte[]?> GetCertificateAsync(DeviceId deviceId, CancellationToken cancellationToken);
}

/// <summary>A device that holds a public key, and the SHA-256 (lower-case hex) of its bookkept IDevID certificate.</summary>
public sealed record DeviceKeyHolder(DeviceIdentity Device, string CertificateSha256)
{
    /// <summary>Whether <paramref name="certificateDer"/> is exactly the bookkept certificate.</summary>
    public bool IsBookkept(ReadOnlySpan<byte> certificateDer) => System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
        System.Text.Encoding.ASCII.GetBytes(CertificateSha256),
        System.Text.Encoding.ASCII.GetBytes(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(certificateDer))));
}

/// <summary>Who a device belongs to and what it is.</summary>
public sealed record DeviceIdentity(DeviceId Id, Guid CustomerId, Guid ManufacturerId, string SerialNumber, string Model, DeviceState State);
