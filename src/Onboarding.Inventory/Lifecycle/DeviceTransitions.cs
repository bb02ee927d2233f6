using Onboarding.Inventory.Contracts;

namespace Onboarding.Inventory.Lifecycle;

/// <summary>
/// The device lifecycle as data: every allowed (from, to) pair, and nothing else. A new device starts with the one
/// transition from no state (<c>null</c>) to <see cref="DeviceState.Bookkept"/>.
/// </summary>
internal static class DeviceTransitions
{
    public static IReadOnlySet<(DeviceState? From, DeviceState To)> Allowed { get; } = new HashSet<(DeviceState? From, DeviceState To)>
    {
        (null, DeviceState.Bookkept),

        // DESIGN.md: the onboarding path, one stage at a time.
        (DeviceState.Bookkept, DeviceState.Bootstrapping),
        (DeviceState.Bootstrapping, DeviceState.CalledHome),
        (DeviceState.CalledHome, DeviceState.Configured),

        // DESIGN.md "Device identity and trust": a device may call home straight from Bookkept, authenticated by the key
        // of its bookkept IDevID certificate, when it was configured to call home some other way than by our RFC 8572
        // bootstrap server (factory or USB configuration, or a manufacturer's own redirect straight to the call-home port).
        (DeviceState.Bookkept, DeviceState.CalledHome),
        (DeviceState.Configured, DeviceState.Onboarded),

        // A factory reset or an RMA replacement of an onboarded device. Such a device starts over at the NMS bootstrap
        // server, like a new one (the redirect server already sent it here once), so Reprovisioning leads back to
        // Bootstrapping, or to Rejected if it is refused on the way.
        (DeviceState.Onboarded, DeviceState.Reprovisioning),
        (DeviceState.Reprovisioning, DeviceState.Bootstrapping),

        // Any live state may end in a rejection (the step's detail is the reason). Rejected is final: a device the
        // customer wants after all is bookkept again by a new record, not revived by another module.
        (DeviceState.Bookkept, DeviceState.Rejected),
        (DeviceState.Bootstrapping, DeviceState.Rejected),
        (DeviceState.CalledHome, DeviceState.Rejected),
        (DeviceState.Configured, DeviceState.Rejected),
        (DeviceState.Onboarded, DeviceState.Rejected),
        (DeviceState.Reprovisioning, DeviceState.Rejected),
    };

    public static bool IsAllowed(DeviceState? from, DeviceState to) => Allowed.Contains((from, to));
}
