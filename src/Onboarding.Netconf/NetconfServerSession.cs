using System.Xml.Linq;
using Onboarding.Netconf.Framing;
using Onboarding.Netconf.Messages;

namespace Onboarding.Netconf;

/// <summary>One &lt;rpc&gt; as the device received it: its message-id, its single operation element, the whole rpc.</summary>
public sealed record NetconfRpcRequest(string MessageId, XElement Operation, XElement Rpc, uint SessionId);

/// <summary>
/// Answers one RPC: return null for &lt;ok/&gt;, or the element(s) to put inside &lt;rpc-reply&gt; (e.g. &lt;data&gt;); throw
/// <see cref="NetconfRpcException"/> to answer with rpc-errors. Any other exception ends the session.
/// </summary>
public delegate ValueTask<XElement?> NetconfRpcHandler(NetconfRpcRequest request, CancellationToken cancellationToken);

/// <summary>
/// The device (server) role: hello, then read RPCs and let <see cref="NetconfRpcHandler"/> answer them until the client
/// sends close-session or closes the stream. What the RFC lets a server answer without the handler is answered here:
/// close-session (§7.8), a missing message-id (§4.1, the example in §4.3), an unparseable message (malformed-message).
/// </summary>
public static class NetconfServerSession
{
    public static async Task RunAsync(Stream stream, NetconfServerOptions options, NetconfRpcHandler handler, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(handler);
        var messages = new NetconfTransport(stream, options.Limits);
        var ours = new HelloMessage(new NetconfCapabilities(options.Capabilities), options.SessionId);
        await NetconfHandshake.ExchangeAsync(messages, ours, weAreServer: true, options.Limits.MaxMessageSize, cancellationToken).ConfigureAwait(false);
        while (await messages.ReadMessageAsync(cancellationToken).ConfigureAwait(false) is { } bytes)
        {
            var (reply, close) = await AnswerAsync(bytes, options, handler, cancellationToken).ConfigureAwait(false);
            await messages.WriteMessageAsync(NetconfXml.Serialize(reply), cancellationToken).ConfigureAwait(false);
            if (close)
                return;
        }
    }

    private static async Task<(XElement Reply, bool Close)> AnswerAsync(byte[] bytes, NetconfServerOptions options, NetconfRpcHandler handler, CancellationToken cancellationToken)
    {
        XElement rpc;
        try
        {
            rpc = NetconfXml.Parse(bytes, options.Limits.MaxMessageSize);
        }
        catch (NetconfException e) when (e.Error == NetconfError.MalformedXml)
        {
            // RFC 6241 Appendix A: malformed-message (base:1.1) — the framing held, so the session can go on.
            return (ErrorReply(null, new RpcError(RpcErrorType.Rpc, "malformed-message", RpcErrorSeverity.Error, Message: e.Message)), false);
        }
        if (rpc.Name != NetconfXml.Base + "rpc")
            return (ErrorReply(null, new RpcError(RpcErrorType.Rpc, "malformed-message", RpcErrorSeverity.Error, Message: $"expected <rpc>, got <{rpc.Name.LocalName}>")), false);
        var messageId = rpc.Attribute("message-id")?.Value;
        if (messageId is null)
        {
            return (ErrorReply(rpc, new RpcError(RpcErrorType.Rpc, "missing-attribute", RpcErrorSeverity.Error,
                Info: new XElement(NetconfXml.Base + "error-info",
                    new XElement(NetconfXml.Base + "bad-attribute", "message-id"),
                    new XElement(NetconfXml.Base + "bad-element", "rpc")))), false);
        }
        var operations = rpc.Elements().ToList();
        if (operations.Count != 1)
        {
            return (ErrorReply(rpc, new RpcError(RpcErrorType.Rpc, operations.Count == 0 ? "missing-element" : "unknown-element", RpcErrorSeverity.Error,
                Message: "an <rpc> carries exactly one operation")), false);
        }
        var operation = operations[0];
        if (operation.Name == NetconfXml.Base + "close-session")
            return (Reply(rpc, null), true);
        try
        {
            var content = await handler(new NetconfRpcRequest(messageId, operation, rpc, options.SessionId), cancellationToken).ConfigureAwait(false);
            return (Reply(rpc, content), false);
        }
        catch (NetconfRpcException e)
        {
            return (ErrorReply(rpc, [.. e.Errors]), false);
        }
    }

    /// <summary>RFC 6241 §4.2: the rpc-reply repeats every attribute of the rpc.</summary>
    private static XElement Reply(XElement? rpc, XElement? content)
    {
        var reply = new XElement(NetconfXml.Base + "rpc-reply");
        if (rpc is not null)
            reply.Add(rpc.Attributes().Where(a => !a.IsNamespaceDeclaration).Select(a => new XAttribute(a)));
        reply.Add(content ?? new XElement(NetconfXml.Base + "ok"));
        return reply;
    }

    private static XElement ErrorReply(XElement? rpc, params RpcError[] errors)
    {
        var reply = Reply(rpc, null);
        reply.RemoveNodes();
        if (errors.Length == 0)
            errors = [new RpcError(RpcErrorType.Application, "operation-failed", RpcErrorSeverity.Error)];
        reply.Add(errors.Select(e => e.ToXml()));
        return reply;
    }
}
