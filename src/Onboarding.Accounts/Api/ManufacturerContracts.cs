using Onboarding.Accounts.Contracts;
using Onboarding.HostKeys.Contracts;

namespace Onboarding.Accounts.Api;

/// <param name="Name">The manufacturer's name, unique within the customer (case-insensitive).</param>
/// <param name="ServerDnsName">DNS name of the manufacturer's (redirect) server.</param>
public sealed record RegisterManufacturerRequest(string? Name, string? ServerDnsName);

public sealed record ManufacturerView(
    Guid Id,
    string Name,
    string ServerDnsName,
    bool Enabled,
    DateTimeOffset CreatedAt,
    DateTimeOffset CredentialsRotatedAt,
    DateTimeOffset? DisabledAt,
    SftpConnection Sftp,
    CallHomeConnection CallHome,
    DeviceTrust DeviceTrust,
    CallHomeStyle CallHomeStyle)
{
    /// <summary>Why the NMS disabled the account itself (e.g. all devices onboarded); null when enabled or disabled by the customer.</summary>
    public string? DisabledReason { get; init; }

    /// <summary>Close the manufacturer's SFTP access automatically once all its devices are onboarded (off by default).</summary>
    public bool DisableWhenAllDevicesOnboarded { get; init; }

    /// <summary>How far the manufacturer's bookkept devices have come; in <c>GET /api/manufacturers/{id}</c> only.</summary>
    public ManufacturerDeviceCount? Devices { get; init; }
}

/// <param name="DisableWhenAllDevicesOnboarded">When the last of the manufacturer's devices is onboarded (rejected ones aside), disable its SFTP access.</param>
public sealed record SetAccessPolicyRequest(bool? DisableWhenAllDevicesOnboarded);

/// <summary>What the NMS checks about this manufacturer's device certificates.</summary>
/// <param name="CaCertificates">Empty until the customer registers the manufacturer's factory CA.</param>
public sealed record DeviceTrust(SerialExtraction SerialExtraction, IReadOnlyList<CaCertificateView> CaCertificates);

public sealed record CaCertificateView(string Subject, string Sha256Fingerprint, DateTimeOffset NotAfter);

/// <param name="CertificatesPem">One or more PEM CA certificates (the manufacturer's factory CA and intermediates).</param>
/// <param name="SerialExtraction">Where the serial is in device certificates; default subject serialNumber.</param>
public sealed record SetDeviceTrustRequest(string? CertificatesPem, SerialExtraction? SerialExtraction);

/// <param name="CallHomeStyle"><c>netconf</c> (an ietf-netconf-server call-home configuration) or <c>junos</c> (outbound-ssh).</param>
public sealed record SetCallHomeStyleRequest(string? CallHomeStyle);

/// <summary>How the manufacturer's server reaches the NMS SFTP drop. Pin one of the fingerprints.</summary>
/// <param name="PublicKeyFingerprint">The fingerprint of the public key the manufacturer may also log in with, if one is registered.</param>
public sealed record SftpConnection(string Host, int Port, string Username, IReadOnlyList<HostKeyFingerprint> HostKeyFingerprints, string? PublicKeyFingerprint);

/// <param name="PublicKey">An OpenSSH public key line (ssh-ed25519, ecdsa-sha2-nistp256/384/521 or ssh-rsa of at least 2048 bits).</param>
public sealed record SetSftpPublicKeyRequest(string? PublicKey);

/// <summary>Where devices dial in (RFC 8071 / outbound-ssh).</summary>
public sealed record CallHomeConnection(string Host, int Port);

/// <param name="Passphrase">Shown only in this response; the NMS keeps only a salted slow hash of it.</param>
public sealed record ManufacturerCredentials(Guid ManufacturerId, string Username, string Passphrase, ManufacturerView Manufacturer);
