using System.Text.Json.Serialization;

namespace Onboarding.Redirect.Orders;

/// <summary>The redirect server's own timeline of an order (DESIGN.md); the NMS never sees these states.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<OrderState>))]
internal enum OrderState
{
    /// <summary>The manufacturer sold the serial to the owner of an NMS profile.</summary>
    Ordered,

    /// <summary>The device presented its IDevID and it chained to the device type's factory CA.</summary>
    Authenticated,

    /// <summary>The device record reached the NMS over SFTP and was bookkept there.</summary>
    HandedOff,

    /// <summary>The device was answered with redirect-information pointing at the NMS bootstrap server.</summary>
    Redirected,

    /// <summary>The manufacturer withdrew the order; final.</summary>
    Cancelled,
}
