using Onboarding.Inventory.Contracts;

namespace Onboarding.Telemetry.Data;

/// <summary>
/// A device that has been issued telemetry credentials, keyed by the device module's <see cref="DeviceId"/>: its broker
/// identity (the serial, unique here because the broker knows devices by serial alone) and its NMS device name.
/// </summary>
internal sealed class TelemetryDevice
{
    public DeviceId DeviceId { get; set; }

    /// <summary>The broker user name and certificate CN: what the topic <c>devices/&lt;serial&gt;/…</c> carries.</summary>
    public required string SerialNumber { get; set; }

    public Guid CustomerId { get; set; }

    /// <summary>The NMS device name: a number from the <c>telemetry.device_name_seq</c> sequence (1000001, 1000002, …).</summary>
    public long DeviceName { get; set; }

    /// <summary>The device's own function; null means the configured default.</summary>
    public string? DeviceFunction { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Set when the device's credentials were revoked; cleared by a new issuance.</summary>
    public DateTimeOffset? RevokedAt { get; set; }

    /// <summary>The version of the configuration the NMS wants the device to run (retained on devices/&lt;serial&gt;/config).</summary>
    public int DesiredVersion { get; set; }

    /// <summary>The configuration version the device last reported on devices/&lt;serial&gt;/state.</summary>
    public int? ReportedVersion { get; set; }

    public DateTimeOffset? ReportedAt { get; set; }
}

/// <summary>One issued client certificate: the audit trail behind the credentials history.</summary>
internal sealed class CredentialIssuance
{
    public long Id { get; set; }

    public DeviceId DeviceId { get; set; }

    /// <summary>The serial the certificate was issued to (its CN).</summary>
    public required string SerialNumber { get; set; }

    public long DeviceName { get; set; }

    /// <summary>The X.509 serial number, upper-case hex: what the CRL lists.</summary>
    public required string CertificateSerial { get; set; }

    public required string CertificateSha256 { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }
}

/// <summary>
/// One telemetry message, keyed by (device_name, signal_date) so a redelivered message is stored once. The device's
/// serial is in <see cref="TelemetryDevice"/>: device names are issued once per device.
/// </summary>
internal sealed class Reading
{
    public long DeviceName { get; set; }

    public DateTimeOffset SignalDate { get; set; }

    public Guid CustomerId { get; set; }

    public double Latitude { get; set; }

    public double Longitude { get; set; }

    public double BatteryLevel { get; set; }

    /// <summary>The names of any further numeric metrics; <see cref="MetricValues"/> holds their values, in the same order.</summary>
    public required string[] MetricNames { get; set; }

    public required double[] MetricValues { get; set; }

    public DateTimeOffset ReceivedAt { get; set; }
}

/// <summary>A message the ingester could not accept, kept with the reason and the raw payload.</summary>
internal sealed class DeadLetter
{
    public long Id { get; set; }

    public DateTimeOffset ReceivedAt { get; set; }

    public required string Topic { get; set; }

    public required string Reason { get; set; }

    public required byte[] Payload { get; set; }
}

/// <summary>A customer's telemetry settings (migration 0006); no row means every setting is off.</summary>
internal sealed class TelemetryCustomerSettings
{
    public Guid CustomerId { get; set; }

    /// <summary>Deliver a telemetry credential to each onboarded device over its call-home session.</summary>
    public bool AutoCredential { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>A topic filter an ingester's persistent MQTT session holds at the broker (migration 0007).</summary>
internal sealed class IngesterSubscription
{
    /// <summary>The ingester's MQTT client id: the broker keeps one session per client id.</summary>
    public required string ClientId { get; set; }

    public required string Filter { get; set; }

    public DateTimeOffset SubscribedAt { get; set; }
}
