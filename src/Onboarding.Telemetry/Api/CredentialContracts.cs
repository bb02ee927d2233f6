using System.Text.Json.Serialization;

namespace Onboarding.Telemetry.Api;

/// <summary>What a device needs to send telemetry: its identity, its function, where the broker is and its client certificate.</summary>
public sealed record TelemetryCredential(
    [property: JsonPropertyName("device_id")] string DeviceId,
    [property: JsonPropertyName("device_name")] long DeviceName,
    [property: JsonPropertyName("credential_creation_date")] DateTimeOffset CredentialCreationDate,
    [property: JsonPropertyName("device_function")] string DeviceFunction,
    [property: JsonPropertyName("broker")] BrokerEndpoint Broker,
    [property: JsonPropertyName("telemetry_topic")] string TelemetryTopic,
    [property: JsonPropertyName("certificate_pem")] string CertificatePem,
    [property: JsonPropertyName("private_key_pem")] string PrivateKeyPem,
    [property: JsonPropertyName("ca_certificate_pem")] string CaCertificatePem);

public sealed record BrokerEndpoint(
    [property: JsonPropertyName("host")] string Host,
    [property: JsonPropertyName("port")] int Port,
    [property: JsonPropertyName("tls")] bool Tls);

public sealed record CredentialRevocation(
    [property: JsonPropertyName("device_id")] string DeviceId,
    [property: JsonPropertyName("revoked_certificates")] int RevokedCertificates,
    [property: JsonPropertyName("revoked_at")] DateTimeOffset RevokedAt);

public sealed record TelemetryReading(
    [property: JsonPropertyName("device_id")] string DeviceId,
    [property: JsonPropertyName("device_name")] long DeviceName,
    [property: JsonPropertyName("signal_date")] DateTimeOffset SignalDate,
    [property: JsonPropertyName("latitude")] double Latitude,
    [property: JsonPropertyName("longitude")] double Longitude,
    [property: JsonPropertyName("battery_level")] double BatteryLevel,
    [property: JsonPropertyName("metrics")] IReadOnlyDictionary<string, double> Metrics,
    [property: JsonPropertyName("received_at")] DateTimeOffset ReceivedAt);

public sealed record HourlyAggregate(
    [property: JsonPropertyName("hour")] DateTimeOffset Hour,
    [property: JsonPropertyName("metric")] string Metric,
    [property: JsonPropertyName("count")] long Count,
    [property: JsonPropertyName("avg")] double Avg,
    [property: JsonPropertyName("min")] double Min,
    [property: JsonPropertyName("max")] double Max);

public sealed record DeviceFunctionChange([property: JsonPropertyName("device_function")] string DeviceFunction);

/// <summary>Desired (what the NMS published, retained, on devices/&lt;serial&gt;/config) against reported (devices/&lt;serial&gt;/state).</summary>
public sealed record DeviceTwin(
    [property: JsonPropertyName("device_id")] string DeviceId,
    [property: JsonPropertyName("device_function")] string DeviceFunction,
    [property: JsonPropertyName("desired_version")] int DesiredVersion,
    [property: JsonPropertyName("reported_version")] int? ReportedVersion,
    [property: JsonPropertyName("reported_at")] DateTimeOffset? ReportedAt,
    [property: JsonPropertyName("in_sync")] bool InSync);
