using System.Security.Cryptography.X509Certificates;

namespace Onboarding.Accounts.Contracts;

/// <summary>What other modules (the SFTP drop, the inventory) need to know about manufacturer accounts.</summary>
public interface IManufacturerAccounts
{
    /// <summary>
    /// Checks an SFTP login. Returns the account only when the username exists, the passphrase matches the
    /// current one and the customer has not disabled the manufacturer. Timing does not reveal which failed.
    /// </summary>
    Task<ManufacturerAccount?> AuthenticateAsync(string sftpUsername, string passphrase, CancellationToken cancellationToken);

    /// <summary>
    /// Checks an SFTP public-key login: the account must exist, be enabled, and have registered exactly this key
    /// (compared by its SHA256 fingerprint). The SSH layer has verified the signature, or asks before signing.
    /// </summary>
    Task<ManufacturerAccount?> AuthenticateByPublicKeyAsync(string sftpUsername, string publicKeyFingerprint, CancellationToken cancellationToken);

    /// <summary>The current state of a manufacturer account and what its devices' certificates must satisfy; null if unknown.</summary>
    Task<ManufacturerTrust?> GetTrustAsync(Guid manufacturerId, CancellationToken cancellationToken);

    /// <summary>Tenant check for other modules' endpoints: does this customer own this manufacturer?</summary>
    Task<bool> IsOwnedByAsync(Guid manufacturerId, Guid customerId, CancellationToken cancellationToken);
}

public sealed record ManufacturerAccount(Guid ManufacturerId, Guid CustomerId, string ManufacturerName, string SftpUsername);

/// <param name="CaCertificates">Empty when the customer registered no CA: bookkeeping then does not check the chain, and
/// the NMS bootstrap server refuses the manufacturer's devices (DESIGN.md: such a manufacturer cannot onboard devices).
/// Parsed once per CA version and shared by every caller: read it, never modify or dispose it.</param>
public sealed record ManufacturerTrust(
    Guid ManufacturerId,
    string ManufacturerName,
    Guid CustomerId,
    string CustomerName,
    bool Enabled,
    X509Certificate2Collection CaCertificates,
    SerialExtraction SerialExtraction)
{
    /// <summary>Which call-home configuration the NMS bootstrap server gives this manufacturer's devices.</summary>
    public CallHomeStyle CallHomeStyle { get; init; } = CallHomeStyle.Netconf;
}
