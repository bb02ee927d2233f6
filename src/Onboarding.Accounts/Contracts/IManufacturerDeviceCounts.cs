namespace Onboarding.Accounts.Contracts;

/// <summary>
/// How far a manufacturer's bookkept devices have come. Accounts asks, the device module (which owns the devices)
/// answers: the interface lives here because Inventory already depends on Accounts, not the other way round.
/// </summary>
public interface IManufacturerDeviceCounts
{
    Task<ManufacturerDeviceCount> CountAsync(Guid customerId, Guid manufacturerId, CancellationToken cancellationToken);
}

/// <param name="Bookkept">Every device the manufacturer has bookkept for the customer, in any state.</param>
/// <param name="Onboarded">Those in service now.</param>
/// <param name="Rejected">Those refused for good; they never become onboarded, so they do not hold the manufacturer's access open.</param>
public sealed record ManufacturerDeviceCount(int Bookkept, int Onboarded, int Rejected)
{
    /// <summary>Devices still on their way: neither onboarded nor rejected.</summary>
    public int Outstanding => Bookkept - Onboarded - Rejected;
}
