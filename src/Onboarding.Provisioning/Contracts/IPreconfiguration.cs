using Onboarding.Inventory.Contracts;
using Onboarding.Ssh;

namespace Onboarding.Provisioning.Contracts;

/// <summary>
/// Pre-configuration of a device that called home (DESIGN.md flow step 5): the call-home module authenticates the
/// device, records <see cref="DeviceState.CalledHome"/> and hands over the live SSH session; this module renders the
/// customer's template for the device, applies it (NETCONF edit-config, or CLI commands over exec), verifies it and
/// records <see cref="DeviceState.Configured"/> and <see cref="DeviceState.Onboarded"/> through
/// <see cref="IDeviceLifecycle"/>. A failure goes on the device's timeline with the device's own error, and the device
/// stays where it was, so its next call home tries again.
/// </summary>
public interface IPreconfiguration
{
    /// <summary>Brings the device as far as it can go on this session; never throws for a device's refusal.</summary>
    /// <param name="device">The authenticated device, in the state call home left it (normally <see cref="DeviceState.CalledHome"/>).</param>
    /// <param name="session">The NMS's SSH client session over the device's call-home connection; the caller owns and disposes it.</param>
    /// <param name="source">For the timeline, e.g. <c>call-home:192.0.2.7:50122</c>.</param>
    Task<PreconfigurationOutcome> ApplyAsync(DeviceIdentity device, SshClientSession session, string source, CancellationToken cancellationToken);
}

/// <summary>What pre-configuration did.</summary>
/// <param name="State">The device's state afterwards.</param>
/// <param name="Succeeded">False when the device refused or failed a step (the detail holds its error).</param>
/// <param name="Detail">One line for logs and the API, e.g. <c>edit-config to candidate + commit, verified with get-config</c>.</param>
public sealed record PreconfigurationOutcome(DeviceState State, bool Succeeded, string Detail);
