namespace Onboarding.Inventory.Contracts;

/// <summary>
/// The one way another module records a step of a device's onboarding. The device module checks the step against its
/// transition table, changes the state and appends the timeline entry in one transaction, with the device row locked,
/// so two concurrent steps cannot both leave the same state. Callers never assign a state.
/// </summary>
public interface IDeviceLifecycle
{
    /// <exception cref="DeviceNotFoundException">No device has that id.</exception>
    /// <exception cref="DeviceTransitionRefusedException">The transition table does not allow the step from the device's state; nothing changed.</exception>
    /// <exception cref="ArgumentException">The step has no source or no detail (a rejection's detail is its reason).</exception>
    Task<DeviceStepRecorded> RecordStepAsync(DeviceId deviceId, DeviceStep deviceStep, CancellationToken cancellationToken);
}

/// <summary>One step of a device's onboarding.</summary>
/// <param name="Target">The state the step moves the device to, or null for a step that only goes on the timeline
/// (e.g. a progress report) and leaves the state as it is.</param>
/// <param name="Source">Where the step came from, e.g. <c>sftp:m-acme-2k4x9q7a</c> or <c>call-home:192.0.2.7</c> (at most 200 characters).</param>
/// <param name="Detail">What happened; for <see cref="DeviceState.Rejected"/>, the reason.</param>
/// <param name="UnlessRepeated">Only for a step without a target: no entry when the device's latest entry already has
/// this detail. A condition that lasts (a capability the device lacks, a template nobody has written yet) is said once,
/// not again on every call home; the log still has each attempt.</param>
public sealed record DeviceStep(DeviceState? Target, string Source, string Detail, bool UnlessRepeated = false);

/// <summary>What a recorded step did: the state before and after it, and when.</summary>
public sealed record DeviceStepRecorded(DeviceId DeviceId, DeviceState From, DeviceState To, DateTimeOffset At);

/// <summary>The step is not allowed from the device's current state; the device and its timeline are unchanged.</summary>
public sealed class DeviceTransitionRefusedException(DeviceId deviceId, DeviceState from, DeviceState to)
    : InvalidOperationException($"Device {deviceId} cannot go from {from} to {to}: the device lifecycle does not allow that transition.")
{
    public DeviceId DeviceId { get; } = deviceId;

    public DeviceState From { get; } = from;

    public DeviceState To { get; } = to;
}

/// <summary>No device has the id a step was recorded for.</summary>
public sealed class DeviceNotFoundException(DeviceId deviceId) : KeyNotFoundException($"No device has the id {deviceId}.")
{
    public DeviceId DeviceId { get; } = deviceId;
}
