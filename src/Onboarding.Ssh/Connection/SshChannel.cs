using System.Text;
using System.Threading.Channels;
using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.Connection;

/// <summary>
/// An RFC 4254 session channel. Incoming data is buffered only up to the window we granted: the window
/// is re-opened (WINDOW_ADJUST) as the application consumes data, so a peer can never make us buffer
/// more than <see cref="SshConnection.LocalWindowSize"/>. Writes wait for the peer's window.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "The SemaphoreSlim never allocates a wait handle (only WaitAsync is used), so there is nothing to dispose.")]
public sealed class SshChannel
{
    private const int MaxStderrCapture = 64 * 1024;

    private readonly SshConnection _connection;
    private readonly Channel<ReadOnlyMemory<byte>> _incoming = Channel.CreateUnbounded<ReadOnlyMemory<byte>>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly Lock _sync = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Queue<TaskCompletionSource<bool>> _pendingReplies = new();
    private readonly TaskCompletionSource<uint?> _exitStatus = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly StringBuilder _stderr = new();
    private ReadOnlyMemory<byte> _current;
    private long _localWindow;
    private long _consumed;
    private long _remoteWindow;
    private TaskCompletionSource? _windowWaiter;
    private bool _eofSent;
    private bool _closeSent;
    private bool _remoteClosed;

    internal SshChannel(SshConnection connection, string channelType, uint localId)
    {
        _connection = connection;
        ChannelType = channelType;
        LocalId = localId;
        _localWindow = SshConnection.LocalWindowSize;
    }

    public string ChannelType { get; }
    internal uint LocalId { get; }
    internal uint RemoteId { get; private set; }
    internal int RemoteMaxPacket { get; private set; }

    /// <summary>Replies to the peer's channel requests, chained to keep their order (used by the read loop only).</summary>
    internal Task ReplyChain { get; set; } = Task.CompletedTask;

    /// <summary>The exit status the peer sent (RFC 4254 §6.10), or null if the channel closed without one.</summary>
    public Task<uint?> ExitStatus => _exitStatus.Task;

    /// <summary>Completes when both sides have sent CHANNEL_CLOSE (or the connection ended).</summary>
    public Task Completion => _closed.Task;

    /// <summary>Extended data (stderr) received so far, capped at 64 KiB; it never holds back the window.</summary>
    public string StandardError
    {
        get
        {
            lock (_sync)
                return _stderr.ToString();
        }
    }

    internal void SetRemote(uint remoteId, uint window, uint maxPacket)
    {
        RemoteId = remoteId;
        _remoteWindow = window;
        // Our own packets are bounded too; 32 KiB matches OpenSSH's default.
        RemoteMaxPacket = (int)Math.Clamp(maxPacket, 1u, 32u * 1024);
    }

    /// <summary>The channel's data as a stream. Disposing the stream sends EOF; it does not close the channel.</summary>
    public Stream AsStream() => new SshChannelStream(this);

    // ---- inbound (called from the connection loop) ----

    internal void OnData(ReadOnlyMemory<byte> data)
    {
        lock (_sync)
        {
            // RFC 4254 §5.2: the peer may not send more than the window allows.
            if (data.Length > _localWindow)
                throw new SshProtocolException(SshDisconnectReason.ProtocolError, "Channel window exceeded");
            if (data.Length > SshConnection.LocalMaxPacket)
                throw new SshProtocolException(SshDisconnectReason.ProtocolError, "Channel packet exceeds the maximum packet size");
            _localWindow -= data.Length;
        }
        if (data.Length > 0)
            _incoming.Writer.TryWrite(data);
    }

    internal uint OnExtendedData(ReadOnlyMemory<byte> data)
    {
        lock (_sync)
        {
            if (data.Length > _localWindow)
                throw new SshProtocolException(SshDisconnectReason.ProtocolError, "Channel window exceeded");
            if (_stderr.Length < MaxStderrCapture)
                _stderr.Append(Encoding.UTF8.GetString(data.Span[..Math.Min(data.Length, MaxStderrCapture - _stderr.Length)]));
        }
        // Stderr is consumed at once, so its window is returned at once.
        return (uint)data.Length;
    }

    internal void OnWindowAdjust(uint bytes)
    {
        TaskCompletionSource? waiter;
        lock (_sync)
        {
            _remoteWindow += bytes;
            // RFC 4254 §5.2: the window may not exceed 2^32 - 1.
            if (_remoteWindow > uint.MaxValue)
                throw new SshProtocolException(SshDisconnectReason.ProtocolError, "Channel window overflow");
            waiter = _windowWaiter;
            _windowWaiter = null;
        }
        waiter?.TrySetResult();
    }

    internal void OnEof() => _incoming.Writer.TryComplete();

    internal void OnExitStatus(uint status) => _exitStatus.TrySetResult(status);

    internal void OnReply(bool success)
    {
        TaskCompletionSource<bool>? pending;
        lock (_sync)
            _pendingReplies.TryDequeue(out pending);
        if (pending is null)
            throw new SshProtocolException(SshDisconnectReason.ProtocolError, "Channel reply without a request");
        pending.TrySetResult(success);
    }

    /// <summary>
    /// A CLOSE went either way: RFC 4254 §5.3 allows nothing more from us on this channel (a peer that has both CLOSEs
    /// has freed it, and OpenSSH, like us, ends the connection over a message for a channel it does not know).
    /// </summary>
    internal bool Closing
    {
        get
        {
            lock (_sync)
                return _closeSent || _remoteClosed;
        }
    }

    /// <summary>The peer sent CLOSE; returns whether we must still send ours.</summary>
    internal bool OnClose()
    {
        bool mustReply;
        lock (_sync)
        {
            _remoteClosed = true;
            mustReply = !_closeSent;
            _closeSent = true;
        }
        Terminate(null);
        return mustReply;
    }

    /// <summary>The connection ended or the channel closed: wake every waiter.</summary>
    internal void Terminate(Exception? error)
    {
        TaskCompletionSource? waiter;
        TaskCompletionSource<bool>[] replies;
        lock (_sync)
        {
            _remoteClosed = true;
            waiter = _windowWaiter;
            _windowWaiter = null;
            replies = [.. _pendingReplies];
            _pendingReplies.Clear();
        }
        _incoming.Writer.TryComplete();
        waiter?.TrySetResult();
        foreach (var r in replies)
            r.TrySetResult(false);
        _exitStatus.TrySetResult(null);
        if (error is null)
            _closed.TrySetResult();
        else
            _closed.TrySetException(error);
        _ = _closed.Task.Exception;
    }

    // ---- application API ----

    /// <summary>Reads channel data; returns 0 at EOF or close.</summary>
    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.Length == 0)
            return 0;
        while (_current.Length == 0)
        {
            if (!await _incoming.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                return 0;
            _incoming.Reader.TryRead(out _current);
        }
        var n = Math.Min(buffer.Length, _current.Length);
        _current.Span[..n].CopyTo(buffer.Span);
        _current = _current[n..];
        await ConsumedAsync(n).ConfigureAwait(false);
        return n;
    }

    // Re-open the window only for what the application has taken (bounded buffering).
    private async ValueTask ConsumedAsync(int n)
    {
        uint adjust = 0;
        lock (_sync)
        {
            _consumed += n;
            if (_consumed >= SshConnection.LocalWindowSize / 2 && !_remoteClosed && !_closeSent)
            {
                adjust = (uint)_consumed;
                _localWindow += _consumed;
                _consumed = 0;
            }
        }
        if (adjust > 0)
        {
            using var w = new SshWriter(16);
            new ChannelWindowAdjustMessage(RemoteId, adjust).Write(w);
            await _connection.SendAsync(w, CancellationToken.None).ConfigureAwait(false);
        }
    }

    internal async ValueTask AdjustWindowAsync(uint bytes)
    {
        if (bytes == 0)
            return;
        lock (_sync)
        {
            if (_remoteClosed || _closeSent)
                return;
            _localWindow += bytes;
        }
        using var w = new SshWriter(16);
        new ChannelWindowAdjustMessage(RemoteId, bytes).Write(w);
        await _connection.SendAsync(w, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Writes data, waiting for the peer's window; splits at the peer's maximum packet size.</summary>
    public Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        WriteAsync(data, null, cancellationToken);

    /// <summary>
    /// Writes extended data of type stderr (RFC 4254 §5.2). OpenSSH's client prints it on the user's terminal, which is
    /// how a subsystem such as sftp can tell a person more than its protocol carries.
    /// </summary>
    public Task WriteStandardErrorAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        WriteAsync(data, ChannelDataMessage.StderrDataType, cancellationToken);

    private async Task WriteAsync(ReadOnlyMemory<byte> data, uint? dataType, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (data.Length > 0)
            {
                int n;
                while (true)
                {
                    Task wait;
                    lock (_sync)
                    {
                        if (_remoteClosed || _eofSent || _closeSent)
                            throw new IOException("The channel is closed for writing");
                        if (_remoteWindow > 0)
                        {
                            n = (int)Math.Min(Math.Min(data.Length, _remoteWindow), RemoteMaxPacket);
                            _remoteWindow -= n;
                            break;
                        }
                        _windowWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                        wait = _windowWaiter.Task;
                    }
                    await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
                using (var w = new SshWriter(n + 16))
                {
                    ChannelDataMessage.Write(w, RemoteId, data.Span[..n], dataType);
                    await _connection.SendAsync(w, cancellationToken, bulk: true).ConfigureAwait(false);
                }
                data = data[n..];
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>RFC 4254 §6.5: runs a command; true if the peer accepted the request.</summary>
    public Task<bool> ExecAsync(string command, CancellationToken cancellationToken = default) =>
        RequestAsync(new ChannelRequestMessage(RemoteId, "exec", true) { Command = command }, cancellationToken);

    /// <summary>RFC 4254 §6.5: starts a subsystem (e.g. "sftp"); true if accepted.</summary>
    public Task<bool> RequestSubsystemAsync(string name, CancellationToken cancellationToken = default) =>
        RequestAsync(new ChannelRequestMessage(RemoteId, "subsystem", true) { SubsystemName = name }, cancellationToken);

    /// <summary>RFC 4254 §6.5: starts the user's shell; true if accepted.</summary>
    public Task<bool> RequestShellAsync(CancellationToken cancellationToken = default) =>
        RequestAsync(new ChannelRequestMessage(RemoteId, "shell", true), cancellationToken);

    private async Task<bool> RequestAsync(ChannelRequestMessage request, CancellationToken cancellationToken)
    {
        var reply = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_sync)
        {
            // Nothing may follow our CLOSE (RFC 4254 §5.3): a closed channel refuses like a peer would.
            if (_remoteClosed || _closeSent)
                return false;
            _pendingReplies.Enqueue(reply);
        }
        using (var w = new SshWriter())
        {
            request.Write(w);
            await _connection.SendAsync(w, cancellationToken).ConfigureAwait(false);
        }
        return await reply.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// RFC 4254 §6.10: reports the command's exit status (server role). Nothing is sent once the channel is closed
    /// (the peer closed it first, and our CLOSE answered): §5.3 allows no message after CLOSE, and a peer that has both
    /// CLOSEs has freed the channel, so OpenSSH, like us, would end the whole connection over a request for it.
    /// </summary>
    public async Task SendExitStatusAsync(uint status, CancellationToken cancellationToken = default)
    {
        if (Closing)
            return;
        using var w = new SshWriter();
        new ChannelRequestMessage(RemoteId, "exit-status", false) { ExitStatus = status }.Write(w);
        await _connection.SendAsync(w, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>RFC 4254 §5.3: no more data from us.</summary>
    public async Task SendEofAsync(CancellationToken cancellationToken = default)
    {
        lock (_sync)
        {
            if (_eofSent || _closeSent)
                return;
            _eofSent = true;
        }
        using var w = new SshWriter(16);
        new ChannelSignalMessage(ChannelSignalMessage.Eof, RemoteId).Write(w);
        await _connection.SendAsync(w, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>RFC 4254 §5.3: sends CLOSE and waits for the peer's CLOSE.</summary>
    public async Task CloseAsync(CancellationToken cancellationToken = default)
    {
        bool send;
        lock (_sync)
        {
            send = !_closeSent;
            _closeSent = true;
        }
        if (send)
        {
            try
            {
                using var w = new SshWriter(16);
                new ChannelSignalMessage(ChannelSignalMessage.Close, RemoteId).Write(w);
                await _connection.SendAsync(w, cancellationToken).ConfigureAwait(false);
            }
            catch (SshConnectionLostException)
            {
                Terminate(null);
            }
        }
        try
        {
            await _closed.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (SshConnectionLostException)
        {
            // The connection ended: the channel is closed either way.
        }
    }
}
