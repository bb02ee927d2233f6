namespace Onboarding.Inventory.Records;

/// <summary>One device record as uploaded (YANG module onboarding-device), with the line it started on.</summary>
internal sealed record DeviceRecord(
    int Line,
    string SerialNumber,
    string Owner,
    string Manufacturer,
    string Model,
    string Certificate,
    string? MacAddress,
    string? HardwareModel,
    string? OsVersion,
    string? OrderId);
