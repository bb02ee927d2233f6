using Onboarding.Netconf.Framing;
using Onboarding.Netconf.Messages;

namespace Onboarding.Netconf;

/// <summary>The NMS side of a session.</summary>
public sealed record NetconfClientOptions
{
    /// <summary>What we advertise: both bases, so a base:1.1 device gets chunked framing (RFC 6242 §4.1).</summary>
    public IReadOnlyList<string> Capabilities { get; init; } = [NetconfCapabilities.Base10, NetconfCapabilities.Base11];

    public NetconfFramingLimits Limits { get; init; } = NetconfFramingLimits.Default;

    /// <summary>RFC 5277 notifications (or other stray messages) tolerated while waiting for one reply.</summary>
    public int MaxMessagesSkippedPerReply { get; init; } = 1024;

    /// <summary>
    /// When the first RPC's reply has not come after this long, send whitespace that opens the next message once
    /// (zero: never). Debian's netconfd (yuma123 2.13) leaves an RPC that reaches it in one read with the client's hello
    /// unprocessed until more input arrives: 85 of 100 sessions whose first RPC followed the hello at once stalled
    /// there, and any further input releases it. The whitespace is valid framing for every server: leading whitespace
    /// of the next message (RFC 6242 §4.3; our messages carry no XML declaration), or its first chunk (§4.2).
    /// </summary>
    public TimeSpan FirstReplyNudge { get; init; } = TimeSpan.FromSeconds(1);
}

/// <summary>The device side of a session (the simulator's NETCONF subsystem).</summary>
public sealed record NetconfServerOptions
{
    public IReadOnlyList<string> Capabilities { get; init; } =
    [
        NetconfCapabilities.Base10,
        NetconfCapabilities.Base11,
        NetconfCapabilities.Candidate,
    ];

    /// <summary>RFC 6241 §8.1: unique per server, at least 1.</summary>
    public uint SessionId { get; init; } = 1;

    public NetconfFramingLimits Limits { get; init; } = NetconfFramingLimits.Default;
}
