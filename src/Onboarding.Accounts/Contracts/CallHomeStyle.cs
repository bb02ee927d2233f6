using System.Text.Json.Serialization;

namespace Onboarding.Accounts.Contracts;

/// <summary>
/// Which call-home configuration the NMS bootstrap server gives this manufacturer's devices in their
/// onboarding-information (RFC 8572 §2.2.2 configuration): devices of one make understand one of them.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<CallHomeStyle>))]
public enum CallHomeStyle
{
    /// <summary>An <c>ietf-netconf-server</c> call-home configuration (RFC 8071; RFC 9643/9644 groupings), XML, merged.</summary>
    [JsonStringEnumMemberName("netconf")]
    Netconf,

    /// <summary>A Junos <c>system services outbound-ssh</c> stanza with a per-device secret, and the NMS login user.</summary>
    [JsonStringEnumMemberName("junos")]
    Junos,
}

public static class CallHomeStyles
{
    /// <summary>The API name of a style (<c>netconf</c>, <c>junos</c>).</summary>
    public static string Name(CallHomeStyle style) => style == CallHomeStyle.Junos ? "junos" : "netconf";

    /// <summary>Parses an API name (case-insensitive); null for anything else.</summary>
    public static CallHomeStyle? Parse(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        "netconf" => CallHomeStyle.Netconf,
        "junos" => CallHomeStyle.Junos,
        _ => null,
    };
}
