using Onboarding.Inventory.Contracts;

namespace Onboarding.Inventory.Data;

/// <summary>
/// One device of one customer, identified by its <see cref="DeviceId"/> (unique per customer and serial), with its
/// onboarding state and timeline. The state changes only through <c>Lifecycle.DeviceSteps</c>.
/// </summary>
internal sealed class Device
{
    public DeviceId Id { get; set; }

    public Guid CustomerId { get; set; }

    public required string SerialNumber { get; set; }

    public Guid ManufacturerId { get; set; }

    public required string Model { get; set; }

    public string? HardwareModel { get; set; }

    public string? OsVersion { get; set; }

    public string? MacAddress { get; set; }

    public string? OrderId { get; set; }

    public required byte[] CertificateDer { get; set; }

    /// <summary>Hex SHA-256 of the DER certificate: what "the same certificate" means.</summary>
    public required string CertificateSha256 { get; set; }

    public required string CertificateSubject { get; set; }

    /// <summary>Hex SHA-256 of the certificate's DER SubjectPublicKeyInfo: how call home finds the device by the key it presents.</summary>
    public required string PublicKeySha256 { get; set; }

    public DeviceState State { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public List<DeviceEvent> Events { get; } = [];
}

/// <summary>One step of a device's timeline: what happened, when, and where it came from.</summary>
internal sealed class DeviceEvent
{
    public long Id { get; set; }

    public DeviceId DeviceId { get; set; }

    public DateTimeOffset At { get; set; }

    /// <summary>The device's state after the step (unchanged for a timeline-only step).</summary>
    public DeviceState State { get; set; }

    /// <summary>Where the step came from, e.g. <c>sftp:m-acme-2k4x9q7a</c>.</summary>
    public required string Source { get; set; }

    public required string Detail { get; set; }
}
