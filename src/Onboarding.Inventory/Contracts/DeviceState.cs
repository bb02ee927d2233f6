using System.Text.Json.Serialization;

namespace Onboarding.Inventory.Contracts;

/// <summary>The onboarding state machine (DESIGN.md): any stage may end in <see cref="Rejected"/>, with a reason.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DeviceState>))]
public enum DeviceState
{
    Expected,
    Authenticated,
    Bookkept,
    Redirected,
    CalledHome,
    Configured,
    Onboarded,
    Rejected,
}
