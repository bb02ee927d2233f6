namespace Onboarding.Inventory.Contracts;

/// <summary>Read-only look-ups of bookkept devices for other modules, so they never read inventory tables.</summary>
public interface IDeviceDirectory
{
    /// <summary>Every customer's device with this serial number (normally one; several only if two customers bookkept the same serial).</summary>
    Task<IReadOnlyList<DeviceIdentity>> FindBySerialAsync(string serialNumber, CancellationToken cancellationToken);

    /// <summary>The customer's device with this serial number, or null.</summary>
    Task<DeviceIdentity?> FindAsync(Guid customerId, string serialNumber, CancellationToken cancellationToken);
}

/// <summary>Who a device belongs to and what it is.</summary>
public sealed record DeviceIdentity(Guid CustomerId, string SerialNumber, string Model, DeviceState State);
