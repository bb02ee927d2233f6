using Onboarding.Inventory.Contracts;

namespace Onboarding.Inventory.Data;

/// <summary>One device of one customer, keyed by (customer, serial), with its onboarding state and timeline.</summary>
internal sealed class Device
{
    public Guid Id { get; set; }

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

    public DeviceState State { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public List<DeviceEvent> Events { get; } = [];
}

/// <summary>One step of a device's timeline: what happened, when, and where it came from.</summary>
internal sealed class DeviceEvent
{
    public long Id { get; set; }

    public Guid DeviceId { get; set; }

    public DateTimeOffset At { get; set; }

    public DeviceState State { get; set; }

    /// <summary>Where the step came from, e.g. <c>sftp:m-acme-2k4x9q7a</c>.</summary>
    public required string Source { get; set; }

    public required string Detail { get; set; }
}
