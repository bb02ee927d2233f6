namespace Onboarding.Inventory.Contracts;

/// <summary>
/// The outbox fact "a device reached an outcome its owner must hear about" (Onboarded or Rejected), written by the
/// device module in the same transaction as the step (DESIGN.md step 6), so a committed outcome always has its fact and
/// a rolled-back one never does. Handled by the Notifications module.
/// </summary>
/// <param name="Detail">The step's detail; for a rejection, the reason.</param>
/// <param name="Source">Where the step came from, e.g. <c>call-home:192.0.2.7:41234</c>.</param>
public sealed record DeviceStateChanged(
    Guid DeviceId,
    Guid CustomerId,
    Guid ManufacturerId,
    string SerialNumber,
    DeviceState From,
    DeviceState To,
    string Source,
    string Detail,
    DateTimeOffset At)
{
    public const string MessageType = "inventory.device-state-changed";

    /// <summary>The states whose arrival the owner is told about.</summary>
    public static bool IsOwnerOutcome(DeviceState from, DeviceState to) => from != to && to is DeviceState.Onboarded or DeviceState.Rejected;
}
