using Onboarding.Inventory.Contracts;

namespace Onboarding.Inventory.Api;

public sealed record DeviceSummary(
    DeviceId Id,
    string SerialNumber,
    Guid ManufacturerId,
    string Model,
    DeviceState State,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

public sealed record DeviceDetails(
    DeviceId Id,
    string SerialNumber,
    Guid ManufacturerId,
    string Model,
    string? HardwareModel,
    string? OsVersion,
    string? MacAddress,
    string? OrderId,
    DeviceState State,
    string CertificateSubject,
    string CertificateSha256,
    string PublicKeySha256,
    string CertificatePem,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    IReadOnlyList<TimelineEntry> Timeline);

/// <summary>A device's whole onboarding history, oldest step first.</summary>
public sealed record DeviceTimeline(DeviceId Id, string SerialNumber, DeviceState State, IReadOnlyList<TimelineEntry> Steps);

/// <param name="State">The device's state after the step (the same as before it for a step that only adds to the timeline).</param>
public sealed record TimelineEntry(DateTimeOffset At, DeviceState State, string Source, string Detail);
