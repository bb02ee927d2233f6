using Onboarding.Accounts.Contracts;

namespace Onboarding.Accounts.Data;

/// <summary>A manufacturer a customer buys devices from, and the SFTP account the NMS issued to it.</summary>
internal sealed class Manufacturer
{
    public Guid Id { get; set; }

    public Guid CustomerId { get; set; }

    public Customer? Customer { get; set; }

    public required string Name { get; set; }

    /// <summary>Upper-case invariant name; unique per customer so "Acme" and "ACME" are one manufacturer.</summary>
    public required string NormalizedName { get; set; }

    public required string ServerDnsName { get; set; }

    public required string SftpUsername { get; set; }

    /// <summary>PBKDF2 hash in <see cref="Security.PassphraseHasher"/>'s self-describing format.</summary>
    public required string PassphraseHash { get; set; }

    public bool Enabled { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset CredentialsRotatedAt { get; set; }

    public DateTimeOffset? DisabledAt { get; set; }

    /// <summary>Why the account was disabled when the NMS did it (e.g. all devices onboarded); null when the customer did.</summary>
    public string? DisabledReason { get; set; }

    /// <summary>The customer's choice: close the SFTP access once all the manufacturer's devices are onboarded (white paper step 5).</summary>
    public bool DisableWhenAllDevicesOnboarded { get; set; }

    /// <summary>The factory CA certificates (PEM) that device certificates must chain to; null until the customer registers one.</summary>
    public string? CaCertificatesPem { get; set; }

    public SerialExtraction SerialExtraction { get; set; } = SerialExtraction.SubjectSerialNumber;

    /// <summary>An authorized_keys line the manufacturer may also log in with; null when none is registered.</summary>
    public string? SftpPublicKey { get; set; }

    /// <summary>Which call-home configuration the NMS bootstrap server gives this manufacturer's devices.</summary>
    public CallHomeStyle CallHomeStyle { get; set; } = CallHomeStyle.Netconf;

    public static string Normalize(string name) => name.Trim().ToUpperInvariant();
}
