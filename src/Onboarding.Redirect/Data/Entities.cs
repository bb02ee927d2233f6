using Onboarding.Redirect.Orders;
using Onboarding.Redirect.Profiles;
using Onboarding.Redirect.Serials;

namespace Onboarding.Redirect.Data;

/// <summary>A manufacturer running this redirect server: the tenant every other row belongs to.</summary>
internal sealed class RedirectManufacturer
{
    public Guid Id { get; set; }

    public required string Name { get; set; }

    public required string ContactEmail { get; set; }

    /// <summary>The public part of the API key, used to find the row; the secret part is only stored hashed.</summary>
    public required string ApiKeyId { get; set; }

    public required byte[] ApiKeyHash { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A product line: the factory CA its IDevID certificates chain to, and where their serial is.</summary>
internal sealed class DeviceType
{
    public Guid Id { get; set; }

    public Guid ManufacturerId { get; set; }

    public required string Name { get; set; }

    /// <summary>The factory CA certificates, PEM.</summary>
    public required string CaPem { get; set; }

    public SerialSource SerialSource { get; set; }

    public string? SerialPattern { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>An NMS a customer handed off to the manufacturer (docs/handoff-bundle.md).</summary>
internal sealed class NmsProfile
{
    public Guid Id { get; set; }

    public Guid ManufacturerId { get; set; }

    public Guid CustomerId { get; set; }

    public string? CustomerName { get; set; }

    /// <summary>The manufacturer's id at the NMS (the bundle's nms.manufacturerId).</summary>
    public Guid? NmsManufacturerId { get; set; }

    public required string SftpHost { get; set; }

    public int SftpPort { get; set; }

    public required string SftpUsername { get; set; }

    public CredentialMode CredentialMode { get; set; }

    /// <summary>The SFTP passphrase, encrypted with Data Protection (keys in the key store); never returned.</summary>
    public string? ProtectedPassphrase { get; set; }

    /// <summary>This profile's ed25519 client key (OpenSSH private key format), encrypted with Data Protection.</summary>
    public string? ProtectedClientKey { get; set; }

    /// <summary>The client key's public half, authorized_keys form, to register at the NMS.</summary>
    public string? ClientPublicKey { get; set; }

    public required string BootstrapUrl { get; set; }

    public string? BootstrapTrustAnchor { get; set; }

    public string? CallHomeHost { get; set; }

    public int? CallHomePort { get; set; }

    public string? OwnerCertificate { get; set; }

    public string? SignedRedirectInformation { get; set; }

    public DateTimeOffset? IssuedAt { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public List<NmsHostKey> HostKeys { get; } = [];
}

/// <summary>An NMS SFTP host key the redirect server pins (by fingerprint) when it uploads.</summary>
internal sealed class NmsHostKey
{
    public Guid NmsProfileId { get; set; }

    /// <summary><c>SHA256:…</c> as OpenSSH prints it.</summary>
    public required string Fingerprint { get; set; }

    public string? Algorithm { get; set; }

    public string? PublicKey { get; set; }
}

/// <summary>A serial sold to the owner of an NMS profile.</summary>
internal sealed class Order
{
    public Guid Id { get; set; }

    public Guid ManufacturerId { get; set; }

    public required string SerialNumber { get; set; }

    public Guid NmsProfileId { get; set; }

    public Guid? DeviceTypeId { get; set; }

    public OrderState State { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>One step of an order's timeline.</summary>
internal sealed class OrderEvent
{
    public long Id { get; set; }

    public Guid OrderId { get; set; }

    public OrderState State { get; set; }

    public DateTimeOffset At { get; set; }

    public string? Detail { get; set; }
}
