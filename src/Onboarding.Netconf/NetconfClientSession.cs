using System.Globalization;
using System.Xml.Linq;
using Onboarding.Netconf.Datastore;
using Onboarding.Netconf.Framing;
using Onboarding.Netconf.Messages;

namespace Onboarding.Netconf;

/// <summary>
/// The NMS (client) role of RFC 6241 over a stream, usually an SSH "netconf" subsystem channel. RPCs run one at a time:
/// each carries the next message-id and waits for the rpc-reply with that id (RFC 6241 §4.1–4.2); notifications that
/// arrive meanwhile are skipped. Operations throw <see cref="NetconfRpcException"/> when the device answers with an
/// rpc-error of severity error, and <see cref="NetconfException"/> when the session itself breaks.
/// </summary>
public sealed class NetconfClientSession : IDisposable
{
    private readonly NetconfTransport _messages;
    private readonly NetconfClientOptions _options;
    private readonly SemaphoreSlim _rpcLock = new(1, 1);
    private long _nextMessageId = 100;
    private bool _firstRpcSent;

    private NetconfClientSession(NetconfTransport messages, NetconfClientOptions options, HelloMessage serverHello)
    {
        _messages = messages;
        _options = options;
        ServerCapabilities = serverHello.Capabilities;
        SessionId = serverHello.SessionId!.Value;
    }

    public uint SessionId { get; }

    public NetconfCapabilities ServerCapabilities { get; }

    public NetconfFraming Framing => _messages.Framing;

    public static async Task<NetconfClientSession> ConnectAsync(Stream stream, NetconfClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new NetconfClientOptions();
        var messages = new NetconfTransport(stream, options.Limits);
        var ours = new HelloMessage(new NetconfCapabilities(options.Capabilities), null);
        var theirs = await NetconfHandshake.ExchangeAsync(messages, ours, weAreServer: false, options.Limits.MaxMessageSize, cancellationToken).ConfigureAwait(false);
        return new NetconfClientSession(messages, options, theirs);
    }

    /// <summary>Sends one operation inside &lt;rpc message-id=…&gt; and returns the reply without judging it.</summary>
    public Task<RpcReply> RpcAsync(XElement operation, CancellationToken cancellationToken = default) =>
        SendAsync(new XElement(NetconfXml.Base + "rpc", operation), cancellationToken);

    /// <summary>
    /// For the sessions API: caller-supplied XML, either a whole &lt;rpc&gt; (its message-id is replaced by ours, other
    /// attributes kept) or a bare operation element, parsed with the same hostile-input rules as device replies.
    /// </summary>
    public Task<RpcReply> RawRpcAsync(string xml, CancellationToken cancellationToken = default)
    {
        var element = NetconfXml.Parse(xml, _options.Limits.MaxMessageSize);
        return element.Name == NetconfXml.Base + "rpc"
            ? SendAsync(element, cancellationToken)
            : SendAsync(new XElement(NetconfXml.Base + "rpc", element), cancellationToken);
    }

    /// <summary>RFC 6241 §7.1: returns the &lt;data&gt; element (empty when the device sent none).</summary>
    public async Task<XElement> GetConfigAsync(DatastoreName source, XElement? subtreeFilter = null, CancellationToken cancellationToken = default)
    {
        var op = new XElement(Nc("get-config"), new XElement(Nc("source"), new XElement(Nc(Name(source)))));
        if (subtreeFilter is not null)
            op.Add(subtreeFilter.Name == Nc("filter") ? subtreeFilter : new XElement(Nc("filter"), new XAttribute("type", "subtree"), subtreeFilter));
        var reply = Ensure(await RpcAsync(op, cancellationToken).ConfigureAwait(false));
        return reply.Data ?? new XElement(Nc("data"));
    }

    /// <summary>
    /// RFC 6241 §7.2. <paramref name="config"/> is either a &lt;config&gt; element in the base namespace or one data
    /// element, which is wrapped in one.
    /// </summary>
    public async Task<RpcReply> EditConfigAsync(DatastoreName target, XElement config, DefaultOperation? defaultOperation = null, CancellationToken cancellationToken = default)
    {
        var op = new XElement(Nc("edit-config"), new XElement(Nc("target"), new XElement(Nc(Name(target)))));
        if (defaultOperation is { } d)
            op.Add(new XElement(Nc("default-operation"), d.ToString().ToLowerInvariant()));
        op.Add(config.Name == Nc("config") ? config : new XElement(Nc("config"), config));
        return Ensure(await RpcAsync(op, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>RFC 6241 §8.3.4.1: candidate → running.</summary>
    public async Task<RpcReply> CommitAsync(CancellationToken cancellationToken = default) =>
        Ensure(await RpcAsync(new XElement(Nc("commit")), cancellationToken).ConfigureAwait(false));

    /// <summary>RFC 6241 §8.3.4.2: candidate ← running.</summary>
    public async Task<RpcReply> DiscardChangesAsync(CancellationToken cancellationToken = default) =>
        Ensure(await RpcAsync(new XElement(Nc("discard-changes")), cancellationToken).ConfigureAwait(false));

    /// <summary>RFC 6241 §8.6.4.1.</summary>
    public async Task<RpcReply> ValidateAsync(DatastoreName source, CancellationToken cancellationToken = default) =>
        Ensure(await RpcAsync(new XElement(Nc("validate"), new XElement(Nc("source"), new XElement(Nc(Name(source))))), cancellationToken).ConfigureAwait(false));

    /// <summary>RFC 6241 §7.5.</summary>
    public async Task<RpcReply> LockAsync(DatastoreName target, CancellationToken cancellationToken = default) =>
        Ensure(await RpcAsync(new XElement(Nc("lock"), new XElement(Nc("target"), new XElement(Nc(Name(target))))), cancellationToken).ConfigureAwait(false));

    /// <summary>RFC 6241 §7.6.</summary>
    public async Task<RpcReply> UnlockAsync(DatastoreName target, CancellationToken cancellationToken = default) =>
        Ensure(await RpcAsync(new XElement(Nc("unlock"), new XElement(Nc("target"), new XElement(Nc(Name(target))))), cancellationToken).ConfigureAwait(false));

    /// <summary>RFC 6241 §7.8: the server answers ok and closes; the caller then closes the channel.</summary>
    public async Task<RpcReply> CloseSessionAsync(CancellationToken cancellationToken = default) =>
        Ensure(await RpcAsync(new XElement(Nc("close-session")), cancellationToken).ConfigureAwait(false));

    public void Dispose() => _rpcLock.Dispose();

    private async Task<RpcReply> SendAsync(XElement rpc, CancellationToken cancellationToken)
    {
        await _rpcLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var messageId = Interlocked.Increment(ref _nextMessageId).ToString(CultureInfo.InvariantCulture);
            rpc.SetAttributeValue("message-id", messageId);
            await _messages.WriteMessageAsync(NetconfXml.Serialize(rpc), cancellationToken).ConfigureAwait(false);
            var reply = ReadReplyAsync(messageId, cancellationToken);
            if (!_firstRpcSent && _options.FirstReplyNudge > TimeSpan.Zero)
            {
                _firstRpcSent = true;
                try
                {
                    return await reply.WaitAsync(_options.FirstReplyNudge, cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException) when (!reply.IsCompleted)
                {
                    // A server that holds an RPC read together with our hello until more input comes (see the option).
                    try
                    {
                        await _messages.WriteNextMessageWhitespaceAsync(cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is IOException or ObjectDisposedException)
                    {
                        // The server closed meanwhile; the pending read says how the RPC ended.
                    }
                }
            }

            return await reply.ConfigureAwait(false);
        }
        finally
        {
            _rpcLock.Release();
        }
    }

    private async Task<RpcReply> ReadReplyAsync(string messageId, CancellationToken cancellationToken)
    {
        for (var skipped = 0; skipped <= _options.MaxMessagesSkippedPerReply; skipped++)
        {
            var bytes = await _messages.ReadMessageAsync(cancellationToken).ConfigureAwait(false)
                ?? throw new NetconfException(NetconfError.Closed, $"the device closed the session before answering message-id {messageId}");
            var root = NetconfXml.Parse(bytes, _options.Limits.MaxMessageSize);
            if (root.Name == NetconfXml.Notification + "notification")
                continue;
            var reply = RpcReply.Parse(root);
            // RFC 6241 §4.3's example: a reply to an rpc the device could not attribute has no message-id; with one
            // RPC in flight it can only be ours.
            if (reply.MessageId == messageId || (reply.MessageId is null && reply.Errors.Count > 0))
                return reply;
            throw new NetconfException(NetconfError.Protocol, $"rpc-reply for message-id '{reply.MessageId}' while waiting for '{messageId}'");
        }
        throw new NetconfException(NetconfError.TooLarge, $"more than {_options.MaxMessagesSkippedPerReply} messages before the reply to {messageId}");
    }

    private static RpcReply Ensure(RpcReply reply) => reply.HasErrors ? throw new NetconfRpcException(reply.Errors) : reply;

    private static XName Nc(string local) => NetconfXml.Base + local;

    private static string Name(DatastoreName datastore) => datastore == DatastoreName.Running ? "running" : "candidate";
}
