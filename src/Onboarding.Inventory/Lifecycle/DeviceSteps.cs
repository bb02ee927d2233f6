using Onboarding.Inventory.Contracts;
using Onboarding.Inventory.Data;

namespace Onboarding.Inventory.Lifecycle;

/// <summary>
/// The one place a device's state changes: checks a step against <see cref="DeviceTransitions"/>, then sets the state
/// and appends the timeline entry together. Bookkeeping a new device goes through it too (the step from no state to
/// Bookkept). Persistence and locking are the caller's (<see cref="DeviceLifecycle"/>, <see cref="DeviceBookkeeping"/>).
/// </summary>
internal static class DeviceSteps
{
    public const int MaxSourceLength = 200;

    /// <summary>Starts a new device's lifecycle: state Bookkept and the first timeline entry.</summary>
    public static void Begin(Device device, string source, string detail, DateTimeOffset now)
    {
        Validate(new DeviceStep(DeviceState.Bookkept, source, detail));
        if (device.Events.Count > 0)
            throw new InvalidOperationException($"Device {device.Id} already has a timeline; its lifecycle has begun.");
        Append(device, DeviceState.Bookkept, source, detail, now);
        device.CreatedAt = now;
    }

    /// <summary>Applies <paramref name="step"/> to an existing device, or throws and leaves the device untouched.</summary>
    public static DeviceStepRecorded Apply(Device device, DeviceStep step, DateTimeOffset now)
    {
        Validate(step);
        var from = device.State;
        if (step.Target is { } to && !DeviceTransitions.IsAllowed(from, to))
            throw new DeviceTransitionRefusedException(device.Id, from, to);
        Append(device, step.Target ?? from, step.Source, step.Detail, now);
        return new DeviceStepRecorded(device.Id, from, device.State, now);
    }

    private static void Append(Device device, DeviceState state, string source, string detail, DateTimeOffset now)
    {
        device.State = state;
        device.UpdatedAt = now;
        device.Events.Add(new DeviceEvent { DeviceId = device.Id, At = now, State = state, Source = source, Detail = detail });
    }

    /// <summary>Source and detail present and bounded, and a target that is a state; throws otherwise.</summary>
    public static void Validate(DeviceStep step)
    {
        ArgumentNullException.ThrowIfNull(step);
        if (string.IsNullOrWhiteSpace(step.Source) || step.Source.Length > MaxSourceLength)
            throw new ArgumentException($"A device step needs a source of 1 to {MaxSourceLength} characters (where it came from).", nameof(step));
        if (string.IsNullOrWhiteSpace(step.Detail))
        {
            throw new ArgumentException(step.Target == DeviceState.Rejected
                ? "A rejection needs its reason in the step's detail."
                : "A device step needs a detail (what happened).", nameof(step));
        }
        if (step.Target is { } target && !Enum.IsDefined(target))
            throw new ArgumentException($"{(int)target} is not a device state.", nameof(step));
        if (step.Target is not null && step.UnlessRepeated)
            throw new ArgumentException("Only a step without a target can leave its entry out; a state change is always on the timeline.", nameof(step));
    }
}
