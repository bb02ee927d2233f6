using Onboarding.Ssh.Transport;
using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.Connection;

/// <summary>
/// RFC 4254 connection protocol over an authenticated transport: channel table, global requests and the
/// single read loop that dispatches every incoming message. Both roles use it; the role only decides
/// whether incoming "session" channel opens are accepted.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "The token source is disposed by CloseAsync, which the owning session's DisposeAsync calls.")]
internal sealed class SshConnection
{
    /// <summary>Window we grant per channel: the most we ever buffer for one channel.</summary>
    public const uint LocalWindowSize = 2 * 1024 * 1024;

    public const uint LocalMaxPacket = 32 * 1024;

    private readonly SshTransport _transport;
    private readonly Func<SshChannelRequest, CancellationToken, ValueTask<bool>>? _requestHandler;
    private readonly int _maxChannels;
    private readonly string _userName;
    private readonly Lock _sync = new();
    private readonly Dictionary<uint, SshChannel> _channels = [];
    private readonly Dictionary<uint, TaskCompletionSource<SshChannel>> _pendingOpens = [];
    // RFC 4254 §4: replies to global requests come back in the order the requests were sent.
    private readonly Queue<TaskCompletionSource<bool>> _pendingGlobalReplies = new();
    private readonly CancellationTokenSource _cts = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationToken _token;
    private uint _nextId;
    private int _closeStarted;

    public SshConnection(SshTransport transport, string userName, Func<SshChannelRequest, CancellationToken, ValueTask<bool>>? requestHandler, int maxChannels)
    {
        _transport = transport;
        _userName = userName;
        _requestHandler = requestHandler;
        _maxChannels = maxChannels;
        _token = _cts.Token;
    }

    public Task Completion => _completion.Task;

    public void Start() => _ = Task.Run(RunAsync);

    public ValueTask SendAsync(SshWriter message, CancellationToken ct, bool bulk = false) => _transport.SendAsync(message.WrittenMemory, ct, bulk);

    private async Task RunAsync()
    {
        Exception? error = null;
        try
        {
            while (true)
            {
                var p = await _transport.ReceiveAsync(_token).ConfigureAwait(false);
                await DispatchAsync(p).ConfigureAwait(false);
            }
        }
        catch (SshProtocolException ex)
        {
            error = ex;
            await _transport.CloseAsync(ex.Reason, ex.Message).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SshConnectionLostException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // Peer went away, or we closed the session.
            await _transport.DisposeAsync().ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The read loop is the last line of defence: any bug must end this session, never the process.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            error = new SshProtocolException(SshDisconnectReason.ProtocolError, "Internal error: " + ex.GetType().Name);
            await _transport.CloseAsync(SshDisconnectReason.ProtocolError, "Internal error").ConfigureAwait(false);
        }
        SshChannel[] channels;
        TaskCompletionSource<SshChannel>[] opens;
        TaskCompletionSource<bool>[] globalReplies;
        lock (_sync)
        {
            channels = [.. _channels.Values];
            opens = [.. _pendingOpens.Values];
            globalReplies = [.. _pendingGlobalReplies];
            _channels.Clear();
            _pendingOpens.Clear();
            _pendingGlobalReplies.Clear();
        }
        var lost = new SshConnectionLostException("The SSH connection ended", error ?? new IOException("closed"));
        foreach (var c in channels)
            c.Terminate(null);
        foreach (var o in opens)
            o.TrySetException(lost);
        foreach (var g in globalReplies)
            g.TrySetException(lost);
        if (error is null)
            _completion.TrySetResult();
        else
            _completion.TrySetException(error);
    }

    private SshChannel Channel(uint recipient)
    {
        lock (_sync)
        {
            return _channels.TryGetValue(recipient, out var c)
                ? c
                : throw new SshProtocolException(SshDisconnectReason.ProtocolError, $"Message for unknown channel {recipient}");
        }
    }

    private async ValueTask DispatchAsync(byte[] p)
    {
        var r = new SshReader(p);
        switch (p[0])
        {
            case GlobalRequestMessage.Number:
            {
                // RFC 4254 §4: we support no global requests (keepalive@openssh.com included) -> REQUEST_FAILURE.
                var m = GlobalRequestMessage.Read(ref r);
                if (m.WantReply)
                    await SendAsync([GlobalRequestMessage.FailureNumber]).ConfigureAwait(false);
                break;
            }
            case GlobalRequestMessage.SuccessNumber or GlobalRequestMessage.FailureNumber:
            {
                TaskCompletionSource<bool>? pending;
                lock (_sync)
                    _pendingGlobalReplies.TryDequeue(out pending);
                // RFC 4254 §4: a reply nobody asked for is a protocol violation, not something to guess a meaning for.
                if (pending is null)
                    throw new SshProtocolException(SshDisconnectReason.ProtocolError, "Unexpected global request reply");
                pending.TrySetResult(p[0] == GlobalRequestMessage.SuccessNumber);
                break;
            }
            case ChannelOpenMessage.Number:
                await OnChannelOpenAsync(ChannelOpenMessage.Read(ref r)).ConfigureAwait(false);
                break;
            case ChannelOpenConfirmationMessage.Number:
            {
                var m = ChannelOpenConfirmationMessage.Read(ref r);
                TaskCompletionSource<SshChannel>? pending;
                SshChannel? channel;
                lock (_sync)
                {
                    _pendingOpens.Remove(m.RecipientChannel, out pending);
                    _channels.TryGetValue(m.RecipientChannel, out channel);
                }
                if (pending is null || channel is null)
                    throw new SshProtocolException(SshDisconnectReason.ProtocolError, "Unexpected channel open confirmation");
                channel.SetRemote(m.SenderChannel, m.InitialWindowSize, m.MaximumPacketSize);
                pending.TrySetResult(channel);
                break;
            }
            case ChannelOpenFailureMessage.Number:
            {
                var m = ChannelOpenFailureMessage.Read(ref r);
                TaskCompletionSource<SshChannel>? pending;
                lock (_sync)
                {
                    _pendingOpens.Remove(m.RecipientChannel, out pending);
                    _channels.Remove(m.RecipientChannel);
                }
                if (pending is null)
                    throw new SshProtocolException(SshDisconnectReason.ProtocolError, "Unexpected channel open failure");
                pending.TrySetException(new Onboarding.Ssh.SshChannelOpenException(m.ReasonCode, m.Description));
                break;
            }
            case ChannelWindowAdjustMessage.Number:
            {
                var m = ChannelWindowAdjustMessage.Read(ref r);
                Channel(m.RecipientChannel).OnWindowAdjust(m.BytesToAdd);
                break;
            }
            case ChannelDataMessage.Number:
            {
                var (recipient, _, data) = ChannelDataMessage.Read(p);
                Channel(recipient).OnData(data);
                break;
            }
            case ChannelDataMessage.ExtendedNumber:
            {
                var (recipient, _, data) = ChannelDataMessage.Read(p);
                var channel = Channel(recipient);
                await channel.AdjustWindowAsync(channel.OnExtendedData(data)).ConfigureAwait(false);
                break;
            }
            case ChannelSignalMessage.Eof:
                Channel(ChannelSignalMessage.Read(ref r).RecipientChannel).OnEof();
                break;
            case ChannelSignalMessage.Close:
            {
                var m = ChannelSignalMessage.Read(ref r);
                var channel = Channel(m.RecipientChannel);
                var reply = channel.OnClose();
                lock (_sync)
                    _channels.Remove(m.RecipientChannel);
                if (reply)
                    await SendAsync([ChannelSignalMessage.Close, .. BigEndian(channel.RemoteId)]).ConfigureAwait(false);
                break;
            }
            case ChannelSignalMessage.Success or ChannelSignalMessage.Failure:
            {
                var m = ChannelSignalMessage.Read(ref r);
                Channel(m.RecipientChannel).OnReply(m.Number == ChannelSignalMessage.Success);
                break;
            }
            case ChannelRequestMessage.Number:
                await OnChannelRequestAsync(ChannelRequestMessage.Read(ref r)).ConfigureAwait(false);
                break;
            case >= 50 and <= 79:
                break; // RFC 4252 §5.1: authentication requests after success are ignored.
            default:
            {
                // RFC 4253 §11.4: answer unknown messages with SSH_MSG_UNIMPLEMENTED.
                using var w = new SshWriter(8);
                w.WriteByte(SshMessageNumbers.Unimplemented);
                w.WriteUInt32(_transport.LastReceivedSequence);
                await SendAsync(w, CancellationToken.None).ConfigureAwait(false);
                break;
            }
        }
    }

    private static byte[] BigEndian(uint value) => [(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value];

    private ValueTask SendAsync(byte[] message) => _transport.SendAsync(message, CancellationToken.None);

    private async ValueTask OnChannelOpenAsync(ChannelOpenMessage m)
    {
        SshChannel? channel = null;
        uint reason = ChannelOpenFailureMessage.AdministrativelyProhibited;
        var description = "Channel type not supported";
        // Only the server role accepts channels, and only "session" (RFC 4254 §6.1).
        if (_transport.IsServer && m.ChannelType == "session")
        {
            lock (_sync)
            {
                if (_channels.Count < _maxChannels)
                {
                    channel = new SshChannel(this, m.ChannelType, _nextId++);
                    channel.SetRemote(m.SenderChannel, m.InitialWindowSize, m.MaximumPacketSize);
                    _channels.Add(channel.LocalId, channel);
                }
                else
                {
                    reason = ChannelOpenFailureMessage.ResourceShortage;
                    description = "Too many channels";
                }
            }
        }
        else if (_transport.IsServer)
        {
            reason = ChannelOpenFailureMessage.UnknownChannelType;
        }
        using var w = new SshWriter(64);
        if (channel is not null)
            new ChannelOpenConfirmationMessage(m.SenderChannel, channel.LocalId, LocalWindowSize, LocalMaxPacket).Write(w);
        else
            new ChannelOpenFailureMessage(m.SenderChannel, reason, description).Write(w);
        await SendAsync(w, CancellationToken.None).ConfigureAwait(false);
    }

    private ValueTask OnChannelRequestAsync(ChannelRequestMessage m)
    {
        var channel = Channel(m.RecipientChannel);
        var isExitStatus = m.RequestType == "exit-status" && !_transport.IsServer && m.ExitStatus is not null;
        if (isExitStatus)
            channel.OnExitStatus(m.ExitStatus!.Value);
        var askApplication = m.RequestType is "exec" or "subsystem" or "shell" && _transport.IsServer && _requestHandler is not null;
        // Application decisions run off the read loop, so a slow handler cannot stall the connection;
        // replies still leave in request order per channel (RFC 4254 §5.4).
        channel.ReplyChain = ReplyInOrderAsync(channel.ReplyChain, channel, m, isExitStatus, askApplication);
        return ValueTask.CompletedTask;
    }

    private async Task ReplyInOrderAsync(Task previous, SshChannel channel, ChannelRequestMessage m, bool ok, bool askApplication)
    {
        await previous.ConfigureAwait(false);
        var replySent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            if (askApplication)
            {
                try
                {
                    ok = await _requestHandler!(new SshChannelRequest(channel, m.RequestType, m.Command, m.SubsystemName, _userName, replySent.Task), _token)
                        .ConfigureAwait(false);
                }
#pragma warning disable CA1031 // A failing application handler means "refused"; it must not take down the connection.
                catch (Exception)
#pragma warning restore CA1031
                {
                    ok = false;
                }
            }
            // A channel closed meanwhile gets no reply: its requester stopped waiting with the CLOSE.
            if (!m.WantReply || channel.Closing)
                return;
            await SendAsync([ok ? ChannelSignalMessage.Success : ChannelSignalMessage.Failure, .. BigEndian(channel.RemoteId)]).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SshConnectionLostException or SshProtocolException or ObjectDisposedException)
        {
            // The connection is ending; the read loop reports why.
        }
        finally
        {
            // Released whatever happened, so work waiting on it fails on its own write rather than hanging.
            replySent.TrySetResult();
        }
    }

    /// <summary>Opens a "session" channel (RFC 4254 §6.1).</summary>
    public async Task<SshChannel> OpenSessionAsync(CancellationToken ct)
    {
        var pending = new TaskCompletionSource<SshChannel>(TaskCreationOptions.RunContinuationsAsynchronously);
        SshChannel channel;
        lock (_sync)
        {
            if (_completion.Task.IsCompleted)
                throw new SshConnectionLostException("The SSH connection is closed");
            channel = new SshChannel(this, "session", _nextId++);
            _channels.Add(channel.LocalId, channel);
            _pendingOpens.Add(channel.LocalId, pending);
        }
        using (var w = new SshWriter(64))
        {
            new ChannelOpenMessage("session", channel.LocalId, LocalWindowSize, LocalMaxPacket).Write(w);
            await SendAsync(w, ct).ConfigureAwait(false);
        }
        return await pending.Task.WaitAsync(ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends SSH_MSG_GLOBAL_REQUEST (RFC 4254 §4) with no request-specific data. With <paramref name="wantReply"/>, completes
    /// with true for REQUEST_SUCCESS and false for REQUEST_FAILURE (what a peer answers to a request it does not know,
    /// which proves it alive just as well); without, completes with true once sent. Faults with
    /// <see cref="SshConnectionLostException"/> when the connection ends first.
    /// </summary>
    public async Task<bool> GlobalRequestAsync(string requestName, bool wantReply, CancellationToken ct)
    {
        TaskCompletionSource<bool>? reply = wantReply ? new(TaskCreationOptions.RunContinuationsAsynchronously) : null;
        using var w = new SshWriter(64);
        new GlobalRequestMessage(requestName, wantReply).Write(w);
        ValueTask sent;
        // The transport seals a (non-bulk) message synchronously inside SendAsync, so sending and queueing the reply under
        // one lock keeps the queue in wire order even with concurrent callers; the read loop dequeues under the same lock.
        lock (_sync)
        {
            if (_completion.Task.IsCompleted)
                throw new SshConnectionLostException("The SSH connection is closed");
            sent = SendAsync(w, ct);
            if (reply is not null)
                _pendingGlobalReplies.Enqueue(reply);
        }

        await sent.ConfigureAwait(false);
        return reply is null || await reply.Task.WaitAsync(ct).ConfigureAwait(false);
    }

    public async Task CloseAsync(SshDisconnectReason reason, string description)
    {
        if (Interlocked.Exchange(ref _closeStarted, 1) == 1)
        {
            await _completion.Task.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).ConfigureAwait(false);
            return;
        }
        await _transport.CloseAsync(reason, description).ConfigureAwait(false);
        await _cts.CancelAsync().ConfigureAwait(false);
        try
        {
            await _completion.Task.ConfigureAwait(false);
        }
        catch (SshProtocolException)
        {
            // Already reported through Completion.
        }
        _cts.Dispose();
    }
}
