using Onboarding.Inventory.Contracts;

namespace Onboarding.Inventory.Api;

public sealed record DeviceSummary(
    string SerialNumber,
    Guid ManufacturerId,
    string Model,
    DeviceState State,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

public sealed record DeviceDetails(
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
    string CertificatePem,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    IReadOnlyList<TimelineEntry> Timeline);

public sealed record TimelineEntry(DateTimeOffset At, DeviceState State, string Source, string Detail);
