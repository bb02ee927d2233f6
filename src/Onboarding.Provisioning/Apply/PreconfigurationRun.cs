using Microsoft.Extensions.Logging;
using Onboarding.Inventory.Contracts;
using Onboarding.Provisioning.Contracts;
using Onboarding.Ssh;

namespace Onboarding.Provisioning.Apply;

/// <summary>
/// One pre-configuration of one device: its state as it goes, the step under way (for a timeout's message), and the
/// one way the appliers record a step. A device's refusal becomes a timeline entry and a failed outcome, never an
/// exception, and the state stays where it was (DESIGN.md: the next call home tries again).
/// </summary>
internal sealed class PreconfigurationRun(DeviceIdentity device, SshClientSession session, string source, IDeviceLifecycle lifecycle, ILogger logger)
{
    /// <summary>Timeline details stay one readable line; device errors and stderr beyond this are cut.</summary>
    public const int MaxDetailLength = 600;

    public DeviceIdentity Device { get; } = device;

    public SshClientSession Session { get; } = session;

    public DeviceState State { get; private set; } = device.State;

    /// <summary>What is being done now, e.g. <c>edit-config to candidate</c>.</summary>
    public string Step { get; set; } = "start";

    /// <summary>Moves the device to <paramref name="target"/> (or only notes, when null); false when the lifecycle refused it.</summary>
    public Task<bool> RecordAsync(DeviceState? target, string detail, CancellationToken cancellationToken) =>
        RecordAsync(new DeviceStep(target, source, Truncate(detail)), cancellationToken);

    /// <summary>A note of a lasting condition: not added again while the latest entry already says it (<see cref="DeviceStep.UnlessRepeated"/>).</summary>
    public Task<bool> NoteOnceAsync(string detail, CancellationToken cancellationToken) =>
        RecordAsync(new DeviceStep(null, source, Truncate(detail), UnlessRepeated: true), cancellationToken);

    private async Task<bool> RecordAsync(DeviceStep step, CancellationToken cancellationToken)
    {
        try
        {
            var recorded = await lifecycle.RecordStepAsync(Device.Id, step, cancellationToken).ConfigureAwait(false);
            State = recorded.To;
            return true;
        }
        catch (DeviceTransitionRefusedException e)
        {
            // Someone else moved the device meanwhile (rejected it, or another session got further): leave it be.
            logger.LogWarning("Pre-configuration of {Serial} ({DeviceId}): the lifecycle refused {From} → {To}", Device.SerialNumber, Device.Id, e.From, e.To);
            State = e.From;
            return false;
        }
    }

    public PreconfigurationOutcome Succeeded(string detail) => new(State, true, detail);

    /// <summary>Puts the failure on the timeline (state unchanged) and returns the failed outcome.</summary>
    public async Task<PreconfigurationOutcome> FailAsync(string detail, CancellationToken cancellationToken)
    {
        logger.LogWarning("Pre-configuration of {Serial} ({DeviceId}) failed at {Step}: {Detail}", Device.SerialNumber, Device.Id, Step, Truncate(detail));
        await RecordAsync(null, "pre-configuration failed: " + detail, cancellationToken).ConfigureAwait(false);
        return new PreconfigurationOutcome(State, false, Truncate(detail));
    }

    public static string Truncate(string text)
    {
        var line = text.ReplaceLineEndings(" / ").Trim();
        return line.Length <= MaxDetailLength ? line : line[..(MaxDetailLength - 1)] + "…";
    }
}
