using System.Text.Json.Serialization;

namespace Onboarding.Inventory.Contracts;

/// <summary>
/// The NMS's device lifecycle (DESIGN.md "One device, one lifecycle"). Which state may follow which is the transition
/// table in <c>Lifecycle/DeviceTransitions.cs</c>; only the device module applies it (<see cref="IDeviceLifecycle"/>).
/// The redirect server's order states (Ordered, Authenticated, HandedOff, Redirected) are not device states here.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<DeviceState>))]
public enum DeviceState
{
    /// <summary>A manufacturer's record for the device arrived over SFTP and was accepted.</summary>
    Bookkept,

    /// <summary>The device reached the NMS bootstrap server (RFC 8572) and is being given onboarding information.</summary>
    Bootstrapping,

    /// <summary>The device called home (RFC 8071) and passed the trust checks.</summary>
    CalledHome,

    /// <summary>The pre-configuration was applied.</summary>
    Configured,

    /// <summary>The device is in service in the customer's network.</summary>
    Onboarded,

    /// <summary>Refused at some stage; the timeline step that led here holds the reason. Final.</summary>
    Rejected,

    /// <summary>An onboarded device was factory-reset or replaced (RMA) and must bootstrap again.</summary>
    Reprovisioning,
}
