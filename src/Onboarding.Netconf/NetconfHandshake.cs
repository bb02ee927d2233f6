using Onboarding.Netconf.Framing;
using Onboarding.Netconf.Messages;

namespace Onboarding.Netconf;

/// <summary>RFC 6241 §8.1 / RFC 6242 §4.1: the hello exchange both roles run before anything else.</summary>
internal static class NetconfHandshake
{
    public static async Task<HelloMessage> ExchangeAsync(NetconfTransport messages, HelloMessage ours, bool weAreServer, int maxMessageSize, CancellationToken cancellationToken)
    {
        // Both sides send their hello at once (§8.1); hellos are always end-of-message framed (RFC 6242 §4.1).
        await messages.WriteMessageAsync(NetconfXml.Serialize(ours.ToXml()), cancellationToken).ConfigureAwait(false);
        var bytes = await messages.ReadMessageAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new NetconfException(NetconfError.Closed, "the peer closed the session before its hello");
        var theirs = HelloMessage.Parse(NetconfXml.Parse(bytes, maxMessageSize));
        if (weAreServer && theirs.SessionId is not null)
            throw new NetconfException(NetconfError.Protocol, "the client's hello carries a session-id (RFC 6241 §8.1: terminate)");
        if (!weAreServer && theirs.SessionId is null)
            throw new NetconfException(NetconfError.Protocol, "the server's hello has no session-id (RFC 6241 §8.1)");
        if (ours.Capabilities.HasBase11 && theirs.Capabilities.HasBase11)
            messages.SwitchToChunked();
        else if (!(ours.Capabilities.HasBase10 && theirs.Capabilities.HasBase10))
            throw new NetconfException(NetconfError.NoCommonBase, "no common base capability (neither base:1.0 nor base:1.1 on both sides)");
        return theirs;
    }
}
