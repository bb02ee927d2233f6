namespace Onboarding.Accounts.Contracts;

/// <summary>
/// The outbox fact "one of this manufacturer's devices was onboarded", written by the device module in the step's
/// transaction: Accounts then checks whether the customer wants the manufacturer's SFTP access closed now that all its
/// devices are onboarded (white paper step 5).
/// </summary>
public sealed record ManufacturerAccessReview(Guid ManufacturerId, Guid DeviceId)
{
    public const string MessageType = "accounts.manufacturer-access-review";
}
