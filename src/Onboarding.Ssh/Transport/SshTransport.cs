using System.Security.Cryptography;
using System.Threading.Channels;
using Onboarding.Ssh.KeyExchange;
using Onboarding.Ssh.Keys;
using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.Transport;

/// <summary>
/// RFC 4253 transport shared by both roles: version exchange, key exchange (strict KEX), rekeying,
/// and message send/receive. One reader (the session loop) calls <see cref="ReceiveAsync"/>; any
/// number of writers call <see cref="SendAsync"/>.
/// Sending never blocks on I/O while a lock is held: packets are sealed in order under an in-memory lock
/// and written by one writer task. While a key exchange runs, non-KEX messages are deferred in order
/// (RFC 4253 §7.1) and sealed with the new keys afterwards, so the reader never waits for the writer.
/// Bulk senders (channel data) wait while more than <see cref="MaxPendingBytes"/> are queued.
/// </summary>
internal sealed partial class SshTransport : IAsyncDisposable
{
    public const string StrictKexClient = "kex-strict-c-v00@openssh.com";
    public const string StrictKexServer = "kex-strict-s-v00@openssh.com";
    public const string ExtInfoClient = "ext-info-c";
    public const string ExtInfoServer = "ext-info-s";

    // SSH_MSG_USERAUTH_SUCCESS (RFC 4252 §5.1): the server may send EXT_INFO just before it (RFC 8308 §2.4).
    private const byte UserAuthSuccessNumber = 52;

    private readonly Stream _stream;
    private readonly TransportSettings _settings;
    private readonly BinaryPacketStream _packets;
    private readonly Lock _sendSync = new();
    private readonly Channel<byte[]> _outbound = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
    private readonly List<byte[]> _deferred = [];
    private readonly List<string> _preBannerLines = [];
    private Task _writerLoop = Task.CompletedTask;
    private long _pendingBytes;
    private long _sealedBytes;
    private long _deferredBytes;
    private TaskCompletionSource? _readerSpaceWaiter;
    private TaskCompletionSource? _spaceWaiter;
    private bool _inKex;
    private bool _firstKexDone;
    private byte[]? _ourKexInit;
    private KexInitMessage? _ourKexInitMessage;
    private bool _peerWantsExtInfo;
    private bool _extInfoMayFollowNewKeys;
    private bool _extInfoMustPrecedeAuthSuccess;
    private bool _peerAuthSucceeded;
    private long _lastKexTicks;
    private volatile bool _closed;
    private bool _disposed;

    /// <summary>Bound on sealed-but-unwritten plus deferred bytes before bulk senders wait.</summary>
    public const long MaxPendingBytes = 1024 * 1024;

    /// <summary>
    /// The reader stops reading while this much is sealed but unwritten: a peer that sends requests
    /// (each wanting a reply) but never reads our replies gets TCP back-pressure instead of growing our memory.
    /// </summary>
    public const long MaxUnwrittenBeforeReaderPauses = 4 * 1024 * 1024;

    /// <summary>Replies held back during one key exchange beyond this end the session (a peer stalling its KEXINIT while flooding).</summary>
    public const long MaxDeferredBytes = 16 * 1024 * 1024;

    public SshTransport(Stream stream, TransportSettings settings)
    {
        _stream = stream;
        _settings = settings;
        _packets = new BinaryPacketStream(stream);
    }

    public bool IsServer => _settings.IsServer;
    public string? PeerVersion { get; private set; }
    public IReadOnlyList<string> PreBannerLines => _preBannerLines;
    public byte[]? SessionId { get; private set; }
    public SshPublicKey? ServerHostKey { get; private set; }

    /// <summary>Client role: what the host-key verifier accepted in the first key exchange.</summary>
    public SshHostKeyContext? HostKeyContext { get; private set; }
    public bool StrictKex { get; private set; }
    public NegotiatedAlgorithms? Algorithms { get; private set; }
    public int KeyExchangeCount { get; private set; }

    /// <summary>Sequence number of the last message returned by <see cref="ReceiveAsync"/> (for SSH_MSG_UNIMPLEMENTED).</summary>
    public uint LastReceivedSequence { get; private set; }

    /// <summary>Client role: server-sig-algs from the server's EXT_INFO (RFC 8308 §3.1), or null.</summary>
    public IReadOnlyList<string>? ServerSigAlgs { get; private set; }

    internal BinaryPacketStream Packets => _packets;

    private static SshProtocolException Error(SshDisconnectReason reason, string message) => new(reason, message);

    /// <summary>Version exchange (RFC 4253 §4.2) and the first key exchange.</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        await _packets.WriteLineAsync(_settings.Version, ct).ConfigureAwait(false);
        while (true)
        {
            var line = await _packets.ReadLineAsync(ct).ConfigureAwait(false);
            if (line.StartsWith("SSH-", StringComparison.Ordinal))
            {
                if (System.Text.Encoding.UTF8.GetByteCount(line) > BinaryPacketStream.MaxLineLength || line.Contains('\0', StringComparison.Ordinal))
                    throw Error(SshDisconnectReason.ProtocolError, "Identification string is longer than 255 bytes or holds a NUL");
                // RFC 4253 §5.1: "SSH-1.99" announces a v2-compatible server.
                if (!line.StartsWith("SSH-2.0-", StringComparison.Ordinal) && !line.StartsWith("SSH-1.99-", StringComparison.Ordinal))
                    throw Error(SshDisconnectReason.ProtocolVersionNotSupported, "Unsupported protocol version");
                PeerVersion = line;
                break;
            }
            // RFC 4253 §4.2: only the server may send lines before its version (e.g. Juniper outbound-ssh
            // DEVICE-CONN-INFO); the client side skips and exposes a bounded number of them.
            if (_settings.IsServer || _preBannerLines.Count >= _settings.MaxPreBannerLines)
                throw Error(SshDisconnectReason.ProtocolError, "Unexpected lines before the identification string");
            // NULs are dropped: the lines reach the application (logs, device identification) as text.
            _preBannerLines.Add(line.Replace("\0", "", StringComparison.Ordinal));
        }
        _writerLoop = Task.Run(WriterLoopAsync, CancellationToken.None);
        lock (_sendSync)
            BeginKexLocked();
        var first = await _packets.ReadPacketAsync(ct).ConfigureAwait(false);
        if (first[0] == DisconnectMessage.Number)
            throw PeerDisconnected(first);
        // Strict KEX: KEXINIT must be the very first packet; we require it of every peer.
        if (first[0] != KexInitMessage.Number)
            throw Error(SshDisconnectReason.ProtocolError, "First packet is not KEXINIT");
        await RunKexAsync(first, ct).ConfigureAwait(false);
    }

    /// <summary>Returns the next message for the layer above (auth or connection).</summary>
    public async ValueTask<byte[]> ReceiveAsync(CancellationToken ct)
    {
        while (true)
        {
            await WaitForReaderSpaceAsync(ct).ConfigureAwait(false);
            var p = await _packets.ReadPacketAsync(ct).ConfigureAwait(false);
            var firstAfterNewKeys = _extInfoMayFollowNewKeys;
            _extInfoMayFollowNewKeys = false;
            if (_extInfoMustPrecedeAuthSuccess && p[0] != UserAuthSuccessNumber)
                throw Error(SshDisconnectReason.ProtocolError, "EXT_INFO from the server was not followed by USERAUTH_SUCCESS (RFC 8308 §2.4)");
            switch (p[0])
            {
                case KexInitMessage.Number:
                    await RunKexAsync(p, ct).ConfigureAwait(false);
                    continue;
                case DisconnectMessage.Number:
                    throw PeerDisconnected(p);
                case SshMessageNumbers.Ignore or SshMessageNumbers.Debug or SshMessageNumbers.Unimplemented:
                    continue;
                case ExtInfoMessage.Number:
                    ReadExtInfo(p, firstAfterNewKeys);
                    continue;
                default:
                    if (SshMessageNumbers.IsKexMethodMessage(p[0]))
                        throw Error(SshDisconnectReason.ProtocolError, $"Unexpected key exchange message {p[0]}");
                    if (p[0] == UserAuthSuccessNumber && !_settings.IsServer)
                    {
                        _peerAuthSucceeded = true;
                        _extInfoMustPrecedeAuthSuccess = false;
                    }
                    LastReceivedSequence = unchecked(_packets.ReadSequence - 1);
                    if (NeedsRekey())
                        InitiateRekey();
                    return p;
            }
        }
    }

    /// <summary>
    /// RFC 8308 §2.4: EXT_INFO is allowed only as the peer's first message after its first NEWKEYS (in both
    /// roles, and only if we announced ext-info-c/-s), and from the server also just before USERAUTH_SUCCESS.
    /// Extensions we do not know are ignored (§2.5); the server reads none of the client's.
    /// </summary>
    private void ReadExtInfo(byte[] p, bool firstAfterNewKeys)
    {
        if (!firstAfterNewKeys)
        {
            if (_settings.IsServer)
                throw Error(SshDisconnectReason.ProtocolError, "EXT_INFO from the client is allowed only as its first message after its first NEWKEYS (RFC 8308 §2.4)");
            if (!_settings.OfferExtInfo || _peerAuthSucceeded)
                throw Error(SshDisconnectReason.ProtocolError, "EXT_INFO from the server is allowed only after its first NEWKEYS or just before USERAUTH_SUCCESS (RFC 8308 §2.4)");
            _extInfoMustPrecedeAuthSuccess = true;
        }
        var r = new SshReader(p);
        var ext = ExtInfoMessage.Read(ref r);
        if (!_settings.IsServer && ext.Extensions.TryGetValue(ExtInfoMessage.ServerSigAlgs, out var algs))
            ServerSigAlgs = algs.Split(',', StringSplitOptions.RemoveEmptyEntries);
    }

    private static SshConnectionLostException PeerDisconnected(byte[] p)
    {
        try
        {
            var r = new SshReader(p);
            var d = DisconnectMessage.Read(ref r);
            return new SshConnectionLostException("Peer disconnected: " + d.Reason) { PeerReason = d.Reason };
        }
        catch (SshProtocolException)
        {
            return new SshConnectionLostException("Peer disconnected");
        }
    }

    /// <summary>
    /// Queues a connection/auth-layer message. During a key exchange it is deferred (RFC 4253 §7.1).
    /// With <paramref name="bulk"/> the call waits while too much is queued (bounded memory).
    /// </summary>
    public async ValueTask SendAsync(ReadOnlyMemory<byte> payload, CancellationToken ct, bool bulk = false)
    {
        lock (_sendSync)
        {
            ThrowIfClosed();
            if (_inKex)
            {
                if (_deferredBytes + payload.Length > MaxDeferredBytes)
                    throw new SshProtocolException(SshDisconnectReason.ProtocolError, "Too much traffic held back during key exchange");
                _deferred.Add(payload.ToArray());
                _pendingBytes += payload.Length;
                _deferredBytes += payload.Length;
            }
            else
            {
                EnqueueLocked(payload.Span);
            }
            if (NeedsRekey())
                BeginKexLocked();
        }
        if (bulk)
            await WaitForSpaceAsync(ct).ConfigureAwait(false);
    }

    public ValueTask SendAsync(SshWriter message, CancellationToken ct, bool bulk = false) => SendAsync(message.WrittenMemory, ct, bulk);

    // Caller holds _sendSync: seal with the current keys and sequence number, then hand to the writer.
    private void EnqueueLocked(ReadOnlySpan<byte> payload)
    {
        var packet = _packets.SealNext(payload);
        _pendingBytes += packet.Length;
        _sealedBytes += packet.Length;
        _outbound.Writer.TryWrite(packet);
    }

    private async ValueTask WaitForSpaceAsync(CancellationToken ct)
    {
        while (true)
        {
            Task wait;
            lock (_sendSync)
            {
                ThrowIfClosed();
                if (_pendingBytes <= MaxPendingBytes)
                    return;
                _spaceWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _spaceWaiter.Task;
            }
            await wait.WaitAsync(ct).ConfigureAwait(false);
        }
    }

    private void Written(int bytes)
    {
        TaskCompletionSource? waiter = null;
        TaskCompletionSource? readerWaiter = null;
        lock (_sendSync)
        {
            _pendingBytes -= bytes;
            _sealedBytes -= bytes;
            if (_pendingBytes <= MaxPendingBytes)
            {
                waiter = _spaceWaiter;
                _spaceWaiter = null;
            }
            if (_sealedBytes <= MaxUnwrittenBeforeReaderPauses)
            {
                readerWaiter = _readerSpaceWaiter;
                _readerSpaceWaiter = null;
            }
        }
        waiter?.TrySetResult();
        readerWaiter?.TrySetResult();
    }

    // Only sealed bytes count: deferred ones can drain only after the reader finishes the key exchange.
    private async ValueTask WaitForReaderSpaceAsync(CancellationToken ct)
    {
        while (true)
        {
            Task wait;
            lock (_sendSync)
            {
                if (_closed || _sealedBytes <= MaxUnwrittenBeforeReaderPauses)
                    return;
                _readerSpaceWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _readerSpaceWaiter.Task;
            }
            await wait.WaitAsync(ct).ConfigureAwait(false);
        }
    }

    private async Task WriterLoopAsync()
    {
        try
        {
            while (await _outbound.Reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (_outbound.Reader.TryRead(out var packet))
                {
                    await _stream.WriteAsync(packet).ConfigureAwait(false);
                    Written(packet.Length);
                }
                await _stream.FlushAsync().ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or NotSupportedException or OperationCanceledException or InvalidOperationException)
        {
            // The stream failed: the reader will see the same and end the session.
            MarkClosed();
        }
    }

    private void ThrowIfClosed()
    {
        if (_closed)
            throw new SshConnectionLostException("The SSH connection is closed");
    }

    private bool NeedsRekey() =>
        _firstKexDone && !_inKex &&
        (_packets.BytesReadSinceKex >= _settings.RekeyBytes || _packets.BytesWrittenSinceKex >= _settings.RekeyBytes ||
         Environment.TickCount64 - _lastKexTicks >= (long)_settings.RekeyInterval.TotalMilliseconds);

    /// <summary>Starts a key exchange from our side (RFC 4253 §9); either side may.</summary>
    public void InitiateRekey()
    {
        lock (_sendSync)
        {
            ThrowIfClosed();
            BeginKexLocked();
        }
    }

    private void SendKexMessage(ReadOnlySpan<byte> payload)
    {
        lock (_sendSync)
        {
            ThrowIfClosed();
            EnqueueLocked(payload);
        }
    }


    /// <summary>Sends SSH_MSG_DISCONNECT (best effort, bounded wait) and closes the stream.</summary>
    public async Task CloseAsync(SshDisconnectReason reason, string description)
    {
        lock (_sendSync)
        {
            if (_closed)
            {
                _outbound.Writer.TryComplete();
            }
            else
            {
                try
                {
                    using var w = new SshWriter();
                    new DisconnectMessage(reason, description).Write(w);
                    EnqueueLocked(w.WrittenSpan);
                }
                catch (ObjectDisposedException)
                {
                    // Cipher already gone; nothing to send.
                }
                _outbound.Writer.TryComplete();
            }
        }
        try
        {
            await _writerLoop.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The peer stopped reading; close anyway.
        }
        await DisposeAsync().ConfigureAwait(false);
    }

    private bool MarkClosed()
    {
        TaskCompletionSource? waiter;
        lock (_sendSync)
        {
            if (_closed)
                return false;
            _closed = true;
            waiter = _spaceWaiter;
            _spaceWaiter = null;
            _readerSpaceWaiter?.TrySetResult();
            _readerSpaceWaiter = null;
            _outbound.Writer.TryComplete();
        }
        waiter?.TrySetResult();
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        MarkClosed();
        lock (_sendSync)
        {
            if (_disposed)
                return;
            _disposed = true;
        }
        try
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
        }
        try
        {
            await _writerLoop.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
        }
        lock (_sendSync)
        {
            _packets.ReadCipher.Dispose();
            _packets.WriteCipher.Dispose();
        }
    }
}
