using Onboarding.Inventory.Contracts;
using Onboarding.Ssh;

namespace Onboarding.Telemetry.Contracts;

/// <summary>
/// Delivers a telemetry credential to an onboarded device over its live call-home session (README "Telemetry",
/// autoCredential): when the device's customer turned the setting on, the NMS asks the device for a PKCS#10 request
/// (NETCONF RPC <c>generate-csr</c>, namespace <c>urn:onboarding:telemetry:1.0</c>), signs it with the telemetry device
/// CA and writes the certificate, the CA, the broker endpoint and the device name into the device's running
/// configuration. The device keeps its private key; nothing secret crosses the session, the logs or the timeline.
/// Idempotent: a device that already holds an unrevoked, unexpired certificate of ours gets nothing new.
/// </summary>
public interface ITelemetryCredentialDelivery
{
    /// <summary>Never throws for a device's refusal: a failure goes on the device's timeline and the device stays Onboarded.</summary>
    /// <param name="device">The device as it is now (only an <see cref="DeviceState.Onboarded"/> device gets a credential).</param>
    /// <param name="session">The NMS's SSH client session over the device's call-home connection; the caller owns it.</param>
    /// <param name="source">For the timeline, e.g. <c>call-home:192.0.2.7:50122</c>.</param>
    Task<TelemetryCredentialOutcome> DeliverAsync(DeviceIdentity device, SshClientSession session, string source, CancellationToken cancellationToken);
}

/// <summary>What a delivery did.</summary>
public enum TelemetryCredentialResult
{
    /// <summary>The customer has not turned autoCredential on (the default): the session was not touched.</summary>
    NotEnabled,

    /// <summary>The device is not Onboarded: nothing was done.</summary>
    NotOnboarded,

    /// <summary>The device already holds a valid certificate of ours: nothing new was issued.</summary>
    AlreadyHeld,

    /// <summary>A certificate was issued and written to the device.</summary>
    Issued,

    /// <summary>The device could not take a credential (no capability, an rpc-error, a broken session); on its timeline.</summary>
    Failed,
}

/// <param name="Detail">One line for logs, never a secret.</param>
public sealed record TelemetryCredentialOutcome(TelemetryCredentialResult Result, string Detail);
