using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Onboarding.Inventory.Contracts;

namespace Onboarding.CallHome.Trust;

/// <summary>
/// What happens to a refused call home: it is always logged with the connection id; for a known device it also goes on
/// the device's timeline as a step without a state change (at most once per reason per
/// <see cref="CallHomeListenerOptions.RefusalTimelineInterval"/>, since a misconfigured device redials every few seconds).
/// <para>
/// No refusal moves the device to Rejected. Rejected is final, and each refusal here is either not attributable to the
/// device or fixable: the device is named only by the key it proved possession of, so an unknown key names nobody, and
/// a DEVICE-ID in a preamble never selects a device (a peer writing another serial into DEVICE-ID reaches at most the
/// timeline of the device whose key it holds, never the named one's). A wrong DEVICE-ID, a bad HMAC or an announced
/// HOST-KEY that differs are configuration mismatches on a device that did prove its key (its next bootstrap fixes
/// them); a disabled manufacturer can be enabled again and a CA registered or replaced by the owner. Rejecting on any of
/// them would let a transient misconfiguration, or an attacker replaying a device's connection with a broken preamble,
/// end that device's onboarding for good. Rejection stays the owner's (or the bootstrap server's) decision.
/// </para>
/// </summary>
internal sealed class CallHomeRefusals(IOptions<CallHomeOptions> options, TimeProvider clock, ILogger<CallHomeRefusals> logger)
{
    private readonly ConcurrentDictionary<(DeviceId, string), DateTimeOffset> _lastOnTimeline = new();

    public async Task RecordAsync(IDeviceLifecycle lifecycle, DeviceIdentity? device, CallHomeRefusal refusal, string source, string connectionId,
        CancellationToken cancellationToken)
    {
        if (device is null)
        {
            logger.LogWarning("Call home refused ({RefusalCode}) on connection {ConnectionId} from {Source}: {Reason}", refusal.Code, connectionId, source, refusal.Reason);
            return;
        }

        logger.LogWarning("Call home of device {Serial} ({DeviceId}) refused ({RefusalCode}) on connection {ConnectionId} from {Source}: {Reason}",
            device.SerialNumber, device.Id, refusal.Code, connectionId, source, refusal.Reason);
        var now = clock.GetUtcNow();
        var key = (device.Id, refusal.Code);
        if (_lastOnTimeline.TryGetValue(key, out var last) && now - last < options.Value.CallHome.RefusalTimelineInterval)
            return;
        _lastOnTimeline[key] = now;
        try
        {
            await lifecycle.RecordStepAsync(device.Id, new DeviceStep(null, source, $"call home refused ({refusal.Code}): {refusal.Reason}"), cancellationToken);
        }
        catch (DeviceNotFoundException)
        {
            // Deleted meanwhile: the log line stands.
        }
    }
}
