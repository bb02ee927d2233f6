using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Onboarding.Mqtt.Packets;

namespace Onboarding.Mqtt;

/// <summary>
/// One network connection to the broker. It owns only lifetime: the read loop (frames → handler),
/// the single writer loop (ordered queue → stream, flushed per batch) and keepalive. Session state
/// and protocol decisions live in <see cref="MqttSession"/>, connecting and reconnecting in <see cref="MqttConnectionSupervisor"/>.
/// </summary>
internal sealed class MqttConnection : IAsyncDisposable
{
    private readonly Stream _stream;
    private readonly PipeReader _reader;
    private readonly MqttProtocolVersion _version;
    private readonly uint _maximumPacketSize;
    private readonly ILogger _logger;
    private readonly string _clientId;
    private readonly CancellationTokenSource _closing = new();
    private readonly Channel<MqttPacket> _outgoing = Channel.CreateUnbounded<MqttPacket>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously); // all loops ended
    private readonly TaskCompletionSource<Exception?> _closedWithReason = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _writeLoop = Task.CompletedTask;
    // DedicatedReceiveThread: bytes [_receiveStart, _receiveEnd) of _receiveBuffer are received and not yet handled.
    private byte[] _receiveBuffer = [];
    private int _receiveStart;
    private int _receiveEnd;
    private long _lastSent = Environment.TickCount64;
    private long _lastReceived = Environment.TickCount64;
    private long _pingSentAt;
    private int _closeStarted;
    private volatile bool _started;

    public MqttConnection(Socket socket, Stream stream, MqttProtocolVersion version, uint maximumPacketSize, ILogger logger, string clientId, int generation)
    {
        Socket = socket;
        _stream = stream;
        _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
        _version = version;
        _maximumPacketSize = maximumPacketSize;
        _logger = logger;
        _clientId = clientId;
        Generation = generation;
    }

    public int Generation { get; }

    /// <summary>The TCP socket under the stream (also under TLS).</summary>
    internal Socket Socket { get; }

    /// <summary>See <see cref="MqttClientOptions.DedicatedReceiveThread"/>. Set before <see cref="Start"/>.</summary>
    public bool DedicatedReceiveThread { get; init; }

    /// <summary>Set once the broker's first Receive Maximum overrun on this connection was logged.</summary>
    public bool ReceiveMaximumOverrunLogged { get; set; }

    /// <summary>Acks of messages that arrived on this connection; meaningless on any other (MQTT 5.0 §4.4).</summary>
    public InboundAckQueue Acks { get; } = new();

    /// <summary>Completes when the connection is closed, with the reason (null for a local, orderly close).</summary>
    public Task<Exception?> Closed => _closedWithReason.Task;

    /// <summary>
    /// Sends CONNECT and waits for CONNACK (MQTT 5.0 §3.1.4, §3.2). With <see cref="DedicatedReceiveThread"/> both are
    /// blocking calls on the calling thread (MqttConnectionSupervisor makes it a pool thread; see
    /// <see cref="MqttClientOptions.DedicatedReceiveThread"/>), and the bytes after CONNACK stay in the receive thread's buffer.
    /// </summary>
    public async Task<ConnAckPacket> HandshakeAsync(ConnectPacket connect, CancellationToken cancellationToken)
    {
        MqttPacket packet;
        using (var w = new MqttWriter())
        {
            connect.Write(w, _version);
            if (DedicatedReceiveThread)
            {
                // Cancellation (the connect timeout) closes the stream, which ends a blocking call.
                using var cancel = cancellationToken.Register(() => Close(new OperationCanceledException(cancellationToken)));
                try
                {
                    _stream.Write(w.Written.Span);
                    packet = ReadPacketBlocking() ?? throw new IOException("Connection closed by the broker before CONNACK");
                }
                catch (Exception e) when (cancellationToken.IsCancellationRequested && e is IOException or ObjectDisposedException)
                {
                    throw new OperationCanceledException("Cancelled while waiting for CONNACK", e, cancellationToken);
                }
            }
            else
            {
                await _stream.WriteAsync(w.Written, cancellationToken);
                packet = await ReadPacketAsync(cancellationToken);
            }
        }
        _lastReceived = Environment.TickCount64;
        return packet as ConnAckPacket
            ?? throw new MqttProtocolException(MqttReasonCode.ProtocolError, $"Protocol error: expected CONNACK, got {packet.Type} (MQTT 5.0 §3.1.4)");
    }

    /// <summary>Starts the loops. <paramref name="onPacket"/> runs on the read loop, one packet at a time.</summary>
    public void Start(Action<MqttConnection, MqttPacket> onPacket, TimeSpan keepAlive, TimeSpan pingTimeout)
    {
        _started = true;
        _writeLoop = WriteLoopAsync();
        var readLoop = ReadLoopAsync(onPacket);
        var keepAliveLoop = keepAlive > TimeSpan.Zero ? KeepAliveLoopAsync(keepAlive, pingTimeout) : Task.CompletedTask;
        _ = Task.WhenAll(readLoop, _writeLoop, keepAliveLoop).ContinueWith(_ => _closed.TrySetResult(), TaskScheduler.Default);
    }

    /// <summary>Queues a packet; the writer loop sends packets in queue order. False once the connection is closing.</summary>
    public bool Send(MqttPacket packet) => _outgoing.Writer.TryWrite(packet);

    /// <summary>Sends DISCONNECT after everything already queued, then closes (MQTT 5.0 §3.14).</summary>
    public async Task CloseGracefullyAsync(DisconnectPacket disconnect, TimeSpan timeout)
    {
        if (_outgoing.Writer.TryWrite(disconnect))
            _outgoing.Writer.TryComplete();
        try
        {
            await _writeLoop.WaitAsync(timeout);
        }
        catch (Exception e) when (e is TimeoutException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            MqttLog.DisconnectNotFlushed(_logger, e, _clientId);
        }
        Close(null);
        await _closed.Task;
    }

    /// <summary>Tears the connection down; idempotent. The first reason wins.</summary>
    public void Close(Exception? reason)
    {
        if (Interlocked.Exchange(ref _closeStarted, 1) != 0)
            return;
        _closedWithReason.TrySetResult(reason);
        _outgoing.Writer.TryComplete();
        _closing.Cancel();
        // Disposing the stream unblocks pending socket reads and writes.
        _stream.Dispose();
        if (!_started)
            _closed.TrySetResult();
    }

    private async ValueTask<MqttPacket> ReadPacketAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await _reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            var frame = MqttFrameReader.Read(buffer, _version, _maximumPacketSize);
            switch (frame.Status)
            {
                case FrameStatus.Packet:
                    _reader.AdvanceTo(buffer.GetPosition(frame.Consumed));
                    return frame.Packet!;
                case FrameStatus.Error:
                    _reader.AdvanceTo(buffer.Start);
                    throw frame.Error!;
                default:
                    _reader.AdvanceTo(buffer.Start, buffer.End);
                    if (result.IsCompleted)
                        throw new IOException(buffer.IsEmpty ? "Connection closed by the broker" : "Connection closed by the broker inside a packet");
                    break;
            }
        }
    }

    private void Received(MqttPacket packet, Action<MqttConnection, MqttPacket> onPacket)
    {
        _lastReceived = Environment.TickCount64;
        if (packet is PingRespPacket)
            Interlocked.Exchange(ref _pingSentAt, 0);
        onPacket(this, packet);
    }

    private async Task ReadLoopAsync(Action<MqttConnection, MqttPacket> onPacket)
    {
        Exception? reason = null;
        try
        {
            if (DedicatedReceiveThread)
            {
                await ReadOnThreadAsync(onPacket);
            }
            else
            {
                while (!_closing.IsCancellationRequested)
                    Received(await ReadPacketAsync(_closing.Token), onPacket);
            }
        }
        catch (MqttProtocolException e)
        {
            // MQTT 5.0 §4.13: on a malformed packet or protocol error, send DISCONNECT with the reason code, then close.
            // MQTT 3.1.1 §4.8: just close; a 3.1.1 DISCONNECT would mean "normal" and suppress our Will.
            reason = e;
            MqttLog.ProtocolViolation(_logger, _clientId, e.ReasonCode, e.Message);
            if (_version == MqttProtocolVersion.V500 && _outgoing.Writer.TryWrite(new DisconnectPacket { ReasonCode = e.ReasonCode }))
            {
                _outgoing.Writer.TryComplete();
                try
                {
                    await _writeLoop.WaitAsync(TimeSpan.FromSeconds(2));
                }
                catch (Exception flush) when (flush is TimeoutException or IOException or OperationCanceledException or ObjectDisposedException)
                {
                    MqttLog.DisconnectNotFlushed(_logger, flush, _clientId);
                }
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            reason = e;
        }
        finally
        {
            Close(reason ?? new IOException("Connection closed"));
            await _reader.CompleteAsync();
        }
    }

    /// <summary>
    /// The read loop on a thread of its own: blocking reads into one buffer, every whole packet in it handled before the
    /// next read, starting with whatever arrived behind CONNACK. Ends (the task faults) like the awaiting loop: on a
    /// protocol error, at end of stream, or when <see cref="Close"/> disposes the stream.
    /// </summary>
    private Task ReadOnThreadAsync(Action<MqttConnection, MqttPacket> onPacket)
    {
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                while (ReadPacketBlocking() is { } packet)
                    Received(packet, onPacket);
                ended.SetResult();
            }
            catch (Exception e)
            {
                ended.SetException(e);
            }
        })
        {
            IsBackground = true,
            Name = "MQTT receive",
        };
        thread.Start();
        return ended.Task;
    }

    /// <summary>
    /// The next packet of a <see cref="DedicatedReceiveThread"/> connection, from bytes already received or after
    /// blocking reads; null once the connection is closing. Throws on a malformed packet and at end of stream.
    /// </summary>
    private MqttPacket? ReadPacketBlocking()
    {
        if (_receiveBuffer.Length == 0)
            _receiveBuffer = new byte[64 * 1024];
        while (true)
        {
            var frame = MqttFrameReader.Read(new ReadOnlySequence<byte>(_receiveBuffer, _receiveStart, _receiveEnd - _receiveStart), _version, _maximumPacketSize);
            if (frame.Status == FrameStatus.Error)
                throw frame.Error!;
            if (frame.Status == FrameStatus.Packet)
            {
                _receiveStart += (int)frame.Consumed;
                return frame.Packet;
            }

            // Keep the partial packet at the front; a packet larger than the buffer (the frame reader has already refused
            // one above the maximum packet size) grows it.
            if (_receiveStart > 0)
            {
                _receiveBuffer.AsSpan(_receiveStart, _receiveEnd - _receiveStart).CopyTo(_receiveBuffer);
                _receiveEnd -= _receiveStart;
                _receiveStart = 0;
            }
            if (_receiveEnd == _receiveBuffer.Length)
                Array.Resize(ref _receiveBuffer, _receiveBuffer.Length * 2);

            // Plain TCP: poll(2) with a timeout, so closing is noticed even if the stream's disposal did not end the read.
            // Over TLS, SslStream may hold decrypted bytes poll cannot see: no poll, disposal ends the read.
            while (_stream is NetworkStream && !Socket.Poll(TimeSpan.FromMilliseconds(500), SelectMode.SelectRead))
            {
                if (_closing.IsCancellationRequested)
                    return null;
            }
            if (_closing.IsCancellationRequested)
                return null;
            var read = _stream.Read(_receiveBuffer, _receiveEnd, _receiveBuffer.Length - _receiveEnd);
            if (read == 0)
                throw new IOException(_receiveEnd == 0 ? "Connection closed by the broker" : "Connection closed by the broker inside a packet");
            _receiveEnd += read;
        }
    }

    private async Task WriteLoopAsync()
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        try
        {
            var reader = _outgoing.Reader;
            while (await reader.WaitToReadAsync(_closing.Token))
            {
                buffer.ResetWrittenCount();
                while (reader.TryRead(out var packet))
                {
                    using var w = new MqttWriter();
                    packet.Write(w, _version);
                    buffer.Write(w.Written.Span);
                    if (_logger.IsEnabled(LogLevel.Trace))
                        MqttLog.PacketSent(_logger, _clientId, packet.Type.ToString());
                }
                // One write per batch: everything queued meanwhile leaves together. A DedicatedReceiveThread connection
                // writes with a blocking call, so its socket never needs the socket engine (MqttClientOptions).
                if (DedicatedReceiveThread)
                    _stream.Write(buffer.WrittenSpan);
                else
                    await _stream.WriteAsync(buffer.WrittenMemory, _closing.Token);
                _lastSent = Environment.TickCount64;
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException or ArgumentException)
        {
            // An encoding error (ArgumentException) must also end the connection: a silent writer would stall every exchange.
            Close(e);
        }
    }

    // MQTT 5.0 §3.1.2.10: send PINGREQ when nothing else was sent within the keep alive; a missing
    // PINGRESP means the connection is gone even if TCP has not noticed yet.
    private async Task KeepAliveLoopAsync(TimeSpan keepAlive, TimeSpan pingTimeout)
    {
        var interval = (long)keepAlive.TotalMilliseconds;
        var tick = TimeSpan.FromMilliseconds(Math.Clamp(interval / 4, 50, 1000));
        try
        {
            while (!_closing.IsCancellationRequested)
            {
                await Task.Delay(tick, _closing.Token);
                var now = Environment.TickCount64;
                var pingSentAt = Interlocked.Read(ref _pingSentAt);
                if (pingSentAt != 0)
                {
                    if (now - pingSentAt > pingTimeout.TotalMilliseconds)
                    {
                        MqttLog.PingTimeout(_logger, _clientId, pingTimeout);
                        Close(new TimeoutException("Keep alive timeout: no PINGRESP"));
                        return;
                    }
                    continue;
                }
                if (now - _lastSent >= interval * 3 / 4 || now - _lastReceived >= interval)
                {
                    Interlocked.Exchange(ref _pingSentAt, now);
                    Send(PingReqPacket.Instance);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // closing
        }
    }

    public async ValueTask DisposeAsync()
    {
        Close(null);
        await _closed.Task.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        // A loop still running would touch the token of a disposed source; then leave it to the GC.
        if (_closed.Task.IsCompleted)
            _closing.Dispose();
    }
}
