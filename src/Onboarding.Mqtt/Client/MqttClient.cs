using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Onboarding.Mqtt.Packets;

namespace Onboarding.Mqtt;

/// <summary>
/// MQTT 3.1.1 / 5.0 client with persistent sessions, QoS 0/1/2 both ways, reconnect with back-off,
/// re-subscription after every CONNACK and manual, in-order acknowledgement of received messages.
/// </summary>
public sealed class MqttClient : IAsyncDisposable
{
    private static readonly TimeSpan DisconnectFlushTimeout = TimeSpan.FromSeconds(5);

    private readonly MqttClientOptions _options;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Channel<MqttApplicationMessage> _messages =
        Channel.CreateUnbounded<MqttApplicationMessage>(new UnboundedChannelOptions { SingleWriter = true });

    // Session state: survives reconnects (MQTT 5.0 §4.1).
    private readonly Dictionary<ushort, OutboundPublish> _outbound = [];
    private readonly HashSet<ushort> _inboundQoS2Released = []; // PUBREC sent, waiting for PUBREL (§4.3.3)
    private readonly Dictionary<string, TopicSubscription> _subscriptions = new(StringComparer.Ordinal);
    private readonly Queue<OutboundPublish> _waitingForSlot = new(); // beyond the broker's Receive Maximum, in call order
    private int _outboundLimit = ushort.MaxValue;

    // Connection state.
    private readonly Dictionary<ushort, TaskCompletionSource<MqttPacket>> _requests = [];
    private readonly List<InboundAck> _readyAcks = [];
    private MqttConnection? _current;
    private CancellationTokenSource? _lifetime;
    private Task _supervisor = Task.CompletedTask;
    private string _clientId;
    private int _generation;
    private ushort _lastPacketId;
    private long _publishSequence;
    private uint _serverMaximumPacketSize = uint.MaxValue;
    private MqttQualityOfService _serverMaximumQoS = MqttQualityOfService.ExactlyOnce;
    private bool _serverRetainAvailable = true;
    private bool _everConnected;
    private bool _disposed;

    public MqttClient(MqttClientOptions options, ILogger<MqttClient>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _clientId = options.ClientId;
    }

    /// <summary>Received messages, in arrival order, across reconnects. Completed when the client is disposed.</summary>
    public ChannelReader<MqttApplicationMessage> Messages => _messages.Reader;

    /// <summary>Client Identifier in use (the broker may assign one, MQTT 5.0 §3.2.2.3.7).</summary>
    public string ClientId => _clientId;

    public bool IsConnected
    {
        get
        {
            lock (_gate)
                return _current is not null;
        }
    }

    /// <summary>The current connection's TCP socket, for tests.</summary>
    internal Socket? CurrentSocket
    {
        get
        {
            lock (_gate)
                return _current?.Socket;
        }
    }

    /// <summary>Raised after every successful CONNACK (messages of the new connection may already be flowing); the argument is Session Present.</summary>
    public event Action<bool>? Connected;

    /// <summary>
    /// Connects once (errors surface here, e.g. <see cref="MqttConnectException"/> for a refused CONNACK),
    /// then keeps the connection up in the background, reconnecting with exponential back-off and jitter.
    /// </summary>
    public async Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_gate)
        {
            if (_lifetime is not null)
                throw new InvalidOperationException("Already connected or connecting");
            _lifetime = new CancellationTokenSource();
        }
        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lifetime.Token);
            var connection = await ConnectOnceAsync(_options.CleanStart && !_everConnected, linked.Token);
            _supervisor = SuperviseAsync(connection, _lifetime.Token);
        }
        catch
        {
            lock (_gate)
            {
                _lifetime.Dispose();
                _lifetime = null;
            }
            throw;
        }
    }

    /// <summary>
    /// Publishes and completes when the QoS handshake completes: at once for QoS 0, on PUBACK for QoS 1,
    /// on PUBCOMP for QoS 2. QoS 1/2 messages survive reconnects and are resent with DUP set.
    /// </summary>
    public async Task PublishAsync(string topic, ReadOnlyMemory<byte> payload, MqttQualityOfService qos = MqttQualityOfService.AtLeastOnce,
        bool retain = false, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!MqttTopic.IsValidTopicName(topic))
            throw new ArgumentException($"'{topic}' is not a valid topic name (MQTT 5.0 §4.7)", nameof(topic));
        if (retain && !_serverRetainAvailable)
            throw new MqttRequestException(MqttReasonCode.RetainNotSupported, "The broker does not support retained messages (MQTT 5.0 §3.2.2.3.5)");
        if (qos > _serverMaximumQoS)
            throw new MqttRequestException(MqttReasonCode.QoSNotSupported, $"The broker supports QoS up to {(int)_serverMaximumQoS} (MQTT 5.0 §3.2.2.3.4)");
        // MQTT 5.0 §3.1.2.11.4: never send a packet larger than the broker's Maximum Packet Size.
        var size = 1 + 4 + 2 + (long)Encoding.UTF8.GetByteCount(topic) + 2 + 1 + payload.Length;
        if (size > VariableByteInteger.MaxValue)
            throw new ArgumentException("PUBLISH exceeds the largest possible MQTT packet (MQTT 5.0 §1.5.5)", nameof(payload));
        if (size > _serverMaximumPacketSize)
            throw new MqttRequestException(MqttReasonCode.PacketTooLarge, $"PUBLISH of {size} bytes exceeds the broker's maximum packet size {_serverMaximumPacketSize}");

        if (qos == MqttQualityOfService.AtMostOnce)
        {
            var packet = new PublishPacket { Topic = topic, Payload = payload.ToArray(), Retain = retain };
            lock (_gate)
            {
                if (_current is null || !_current.Send(packet))
                    throw new InvalidOperationException("Not connected; QoS 0 messages are not queued");
            }
            return;
        }

        var entry = new OutboundPublish(new PublishPacket { Topic = topic, Payload = payload.ToArray(), QoS = qos, Retain = retain });
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _waitingForSlot.Enqueue(entry);
            SendWaitingPublishes();
        }
        // Cancellation only stops the wait: a message already handed over may still be delivered.
        await entry.Completion.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Subscribes and remembers the subscription: it is renewed after every CONNACK. Filters may be
    /// shared subscriptions (<c>$share/{group}/{filter}</c>). Returns the granted QoS.
    /// </summary>
    public async Task<MqttQualityOfService> SubscribeAsync(string topicFilter, MqttQualityOfService qos = MqttQualityOfService.AtLeastOnce,
        CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!MqttTopic.IsValidTopicFilter(topicFilter))
            throw new ArgumentException($"'{topicFilter}' is not a valid topic filter (MQTT 5.0 §4.7, §4.8.2)", nameof(topicFilter));
        var subscription = new TopicSubscription(topicFilter, qos);
        Task<MqttPacket> response;
        lock (_gate)
        {
            _subscriptions[topicFilter] = subscription;
            if (_current is null)
                return qos; // renewed with the other subscriptions after the next CONNACK
            response = SendRequest(_current, id => new SubscribePacket { PacketId = id, Subscriptions = [subscription] });
        }
        var ack = (SubAckPacket)await response.WaitAsync(cancellationToken);
        var code = ack.ReasonCodes[0];
        if (code >= 0x80)
        {
            lock (_gate)
                _subscriptions.Remove(topicFilter);
            throw new MqttRequestException(code, $"SUBSCRIBE to '{topicFilter}' refused with 0x{code:X2}");
        }
        return (MqttQualityOfService)code;
    }

    public async Task UnsubscribeAsync(string topicFilter, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Task<MqttPacket> response;
        lock (_gate)
        {
            _subscriptions.Remove(topicFilter);
            if (_current is null)
                return;
            response = SendRequest(_current, id => new UnsubscribePacket { PacketId = id, Filters = [topicFilter] });
        }
        var ack = (UnsubAckPacket)await response.WaitAsync(cancellationToken);
        if (ack.ReasonCodes.Count > 0 && ack.ReasonCodes[0] >= 0x80)
            throw new MqttRequestException(ack.ReasonCodes[0], $"UNSUBSCRIBE from '{topicFilter}' refused with 0x{ack.ReasonCodes[0]:X2}");
    }

    /// <summary>
    /// Acknowledges a received message. PUBACK (QoS 1) / PUBREC (QoS 2) go out in arrival order: an ack
    /// is held back until every earlier message is acked too. Acks for messages from an earlier connection
    /// are dropped: the broker redelivers those messages (at least once).
    /// </summary>
    public ValueTask AckAsync(MqttApplicationMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        Ack([message]);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Acknowledges many received messages at once, as <see cref="AckAsync(MqttApplicationMessage)"/> does each: for an
    /// application that commits messages in batches. The client's lock is taken once, not once per message (the receive
    /// loop takes it for every message that arrives meanwhile), and the acks are queued together, so the connection's
    /// writer wakes once for them. Never blocks: the acks are queued for the connection's writer.
    /// </summary>
    public void Ack(IReadOnlyList<MqttApplicationMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        lock (_gate)
        {
            _readyAcks.Clear();
            foreach (var message in messages)
            {
                if (message.Ack is null || message.Connection is null)
                    continue; // QoS 0
                // Acks of messages from an earlier connection are meaningless on this one (MQTT 5.0 §4.4): the broker redelivers.
                var before = _readyAcks.Count;
                message.Connection.Acks.Ack(message.Ack, _readyAcks);
                if (!ReferenceEquals(message.Connection, _current))
                    _readyAcks.RemoveRange(before, _readyAcks.Count - before);
            }

            foreach (var ready in _readyAcks)
            {
                if (ready.QoS == MqttQualityOfService.AtLeastOnce)
                {
                    _current!.Send(new PubAckPacket { PacketId = ready.PacketId });
                }
                else
                {
                    _inboundQoS2Released.Add(ready.PacketId);
                    _current!.Send(new PubRecPacket { PacketId = ready.PacketId });
                }
            }
        }
    }

    /// <summary>
    /// Callback alternative to reading <see cref="Messages"/>: runs <paramref name="handler"/> for each message,
    /// one at a time, until cancelled or the client is disposed. The handler acks (or not) by calling <see cref="AckAsync"/>.
    /// </summary>
    public async Task ProcessMessagesAsync(Func<MqttApplicationMessage, CancellationToken, Task> handler, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        await foreach (var message in _messages.Reader.ReadAllAsync(cancellationToken))
            await handler(message, cancellationToken);
    }

    /// <summary>Sends DISCONNECT and stops reconnecting. The session stays on the broker (Session Expiry permitting).</summary>
    public async Task DisconnectAsync(CancellationToken cancellationToken = default)
    {
        MqttConnection? connection;
        CancellationTokenSource? lifetime;
        lock (_gate)
        {
            connection = _current;
            _current = null;
            lifetime = _lifetime;
            _lifetime = null;
            FailRequests(new IOException("Disconnected"));
        }
        if (lifetime is null)
            return;
        await lifetime.CancelAsync();
        if (connection is not null)
        {
            await connection.CloseGracefullyAsync(new DisconnectPacket(), DisconnectFlushTimeout);
            MqttLog.Disconnected(_logger, _clientId);
        }
        await _supervisor.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        lifetime.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
            return;
        await DisconnectAsync();
        lock (_gate)
        {
            _disposed = true;
            foreach (var entry in _outbound.Values.Concat(_waitingForSlot))
                entry.Completion.TrySetException(new ObjectDisposedException(nameof(MqttClient)));
            _outbound.Clear();
            _waitingForSlot.Clear();
        }
        _messages.Writer.TryComplete();
    }

    /// <summary>Test hook: drops the network connection without DISCONNECT, as a network failure would.</summary>
    internal void AbortConnection()
    {
        MqttConnection? connection;
        lock (_gate)
            connection = _current;
        connection?.Close(new IOException("Connection aborted"));
    }

    private async Task SuperviseAsync(MqttConnection connection, CancellationToken lifetime)
    {
        var attempt = 0;
        while (!lifetime.IsCancellationRequested)
        {
            var reason = await connection.Closed;
            if (lifetime.IsCancellationRequested)
            {
                await connection.DisposeAsync();
                return;
            }
            OnConnectionLost(connection, reason);
            await connection.DisposeAsync();
            if (!_options.AutoReconnect)
                return;
            while (true)
            {
                var delay = Backoff(attempt++);
                try
                {
                    await Task.Delay(delay, lifetime);
                    connection = await ConnectOnceAsync(cleanStart: false, lifetime);
                    attempt = 0;
                    break;
                }
                catch (OperationCanceledException) when (lifetime.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e) when (!lifetime.IsCancellationRequested)
                {
                    // Whatever failed (DNS, TCP, TLS, CONNACK refusal, protocol error), keep trying: giving up
                    // would leave an ingester silently disconnected.
                    MqttLog.ReconnectFailed(_logger, _clientId, attempt, e.Message);
                }
            }
        }
    }

    private TimeSpan Backoff(int attempt) =>
#pragma warning disable CA5394 // Jitter only spreads reconnects; it needs no cryptographic randomness.
        ReconnectDelay(attempt, _options.ReconnectMinDelay, _options.ReconnectMaxDelay, Random.Shared.NextDouble());
#pragma warning restore CA5394

    /// <summary>
    /// Exponential back-off with jitter: the delay doubles per attempt up to the maximum, and a random
    /// 50-100 % of it is used (<paramref name="random"/> in [0, 1)), so a fleet of clients does not
    /// reconnect in lock step after a broker restart.
    /// </summary>
    internal static TimeSpan ReconnectDelay(int attempt, TimeSpan min, TimeSpan max, double random)
    {
        var exponential = min.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 30));
        var capped = Math.Min(exponential, max.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.5 + (random * 0.5)));
    }

    private void OnConnectionLost(MqttConnection connection, Exception? reason)
    {
        lock (_gate)
        {
            if (!ReferenceEquals(_current, connection))
                return;
            _current = null;
            FailRequests(new IOException("Connection lost", reason));
        }
        MqttLog.ConnectionLost(_logger, _clientId, connection.Generation, reason?.Message ?? "closed");
    }

    private async Task<MqttConnection> ConnectOnceAsync(bool cleanStart, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ConnectTimeout);
        try
        {
            return await ConnectOnceAsync(cleanStart, timeout.Token, cancellationToken);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"No CONNACK from {_options.Host}:{_options.Port} within {_options.ConnectTimeout}", e);
        }
    }

    // A DedicatedReceiveThread connection connects with blocking calls (OpenStreamAsync): on a pool thread, never the caller's.
    private Task<MqttConnection> ConnectOnceAsync(bool cleanStart, CancellationToken timeoutToken, CancellationToken cancellationToken) =>
        _options.DedicatedReceiveThread
            ? Task.Run(() => ConnectOnceCoreAsync(cleanStart, timeoutToken, cancellationToken), CancellationToken.None)
            : ConnectOnceCoreAsync(cleanStart, timeoutToken, cancellationToken);

    private async Task<MqttConnection> ConnectOnceCoreAsync(bool cleanStart, CancellationToken timeoutToken, CancellationToken cancellationToken)
    {
        var (socket, stream) = await OpenStreamAsync(timeoutToken);
        var connection = new MqttConnection(socket, stream, _options.ProtocolVersion, _options.MaximumPacketSize, _logger, _clientId, Interlocked.Increment(ref _generation))
        {
            DedicatedReceiveThread = _options.DedicatedReceiveThread,
        };
        try
        {
            var connAck = await connection.HandshakeAsync(BuildConnect(cleanStart), timeoutToken);
            var code = connAck.ReasonCodeFor(_options.ProtocolVersion);
            if (code != MqttReasonCode.Success)
            {
                var reason = connAck.Properties.ReasonString is { } text ? $" ({text})" : "";
                throw new MqttConnectException(code, $"CONNACK refused the connection with 0x{code:X2}{reason}");
            }
            OnConnAck(connection, connAck, cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private ConnectPacket BuildConnect(bool cleanStart)
    {
        var properties = new MqttProperties();
        if (_options.ProtocolVersion == MqttProtocolVersion.V500)
        {
            properties.SessionExpiryInterval = _options.SessionExpiryInterval;
            properties.ReceiveMaximum = _options.ReceiveMaximum;
            properties.MaximumPacketSize = _options.MaximumPacketSize;
        }
        return new ConnectPacket
        {
            ProtocolVersion = _options.ProtocolVersion,
            ClientId = _clientId,
            CleanStart = cleanStart,
            KeepAliveSeconds = (ushort)Math.Min(ushort.MaxValue, _options.KeepAlive.TotalSeconds),
            UserName = _options.UserName,
            Password = _options.Password is null ? null : Encoding.UTF8.GetBytes(_options.Password),
            Properties = properties,
            Will = _options.Will is not { } will ? null : new WillMessage
            {
                Topic = will.Topic,
                Payload = will.Payload,
                QoS = will.QoS,
                Retain = will.Retain,
                Properties = new MqttProperties { WillDelayInterval = will.DelayInterval == 0 ? null : will.DelayInterval },
            },
        };
    }

    /// <summary>
    /// TCP connection and TLS handshake. For <see cref="MqttClientOptions.DedicatedReceiveThread"/> both are blocking
    /// calls (a pool thread waits for them; cancellation disposes the socket): a socket .NET never had to wait on
    /// asynchronously stays out of its epoll set, so the data arriving for the receive thread does not also wake the
    /// socket engine's thread and, through it, a pool thread.
    /// </summary>
    private async Task<(Socket, Stream)> OpenStreamAsync(CancellationToken cancellationToken)
    {
        var blocking = _options.DedicatedReceiveThread;
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? stream = null;
        try
        {
            using var cancel = blocking ? cancellationToken.Register(socket.Dispose) : default;
            try
            {
                if (blocking)
                    socket.Connect(_options.Host, _options.Port);
                else
                    await socket.ConnectAsync(_options.Host, _options.Port, cancellationToken);
                stream = new NetworkStream(socket, ownsSocket: true);
                if (_options.Tls is not { } tls)
                    return (socket, stream);
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                var authentication = new SslClientAuthenticationOptions
                {
                    TargetHost = tls.TargetHost ?? _options.Host,
                    ClientCertificates = tls.ClientCertificate is null ? null : [tls.ClientCertificate],
                    RemoteCertificateValidationCallback = tls.RemoteCertificateValidation ?? ((_, certificate, _, errors) => ValidateBroker(tls, certificate, errors)),
                };
                if (blocking)
                    ssl.AuthenticateAsClient(authentication);
                else
                    await ssl.AuthenticateAsClientAsync(authentication, cancellationToken);
                return (socket, ssl);
            }
            catch (Exception e) when (blocking && cancellationToken.IsCancellationRequested && e is SocketException or IOException or ObjectDisposedException)
            {
                throw new OperationCanceledException("Cancelled while connecting", e, cancellationToken);
            }
        }
        catch
        {
            if (stream is not null)
                await stream.DisposeAsync();
            else
                socket.Dispose();
            throw;
        }
    }

    private static bool ValidateBroker(MqttTlsOptions tls, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (tls.TrustedCertificateAuthorities is not { Count: > 0 } roots)
            return errors == SslPolicyErrors.None;
        // With our own CA, only the chain is re-evaluated; a name mismatch is still fatal.
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }

    private void OnConnAck(MqttConnection connection, ConnAckPacket connAck, CancellationToken cancellationToken)
    {
        var p = connAck.Properties;
        var keepAlive = p.ServerKeepAlive is { } serverKeepAlive ? TimeSpan.FromSeconds(serverKeepAlive) : _options.KeepAlive;
        lock (_gate)
        {
            // DisconnectAsync may have run while CONNACK was in flight: do not resurrect the client.
            cancellationToken.ThrowIfCancellationRequested();
            if (p.AssignedClientIdentifier is { } assigned)
                _clientId = assigned; // MQTT 5.0 §3.2.2.3.7: reuse it so the session can be resumed
            _serverMaximumPacketSize = p.MaximumPacketSize ?? uint.MaxValue;
            _serverRetainAvailable = p.RetainAvailable != 0;
            _serverMaximumQoS = p.MaximumQoS is 0 ? MqttQualityOfService.AtMostOnce : p.MaximumQoS is 1 ? MqttQualityOfService.AtLeastOnce : MqttQualityOfService.ExactlyOnce;
            _outboundLimit = p.ReceiveMaximum ?? ushort.MaxValue;
            if (!connAck.SessionPresent)
                _inboundQoS2Released.Clear(); // §4.1: a new session has no state
            _current = connection;
            _everConnected = true;
            connection.Start(OnPacket, keepAlive, _options.PingTimeout);

            // MQTT 5.0 §4.4: resend unacknowledged PUBLISH (DUP=1) and PUBREL packets in their original order.
            foreach (var entry in _outbound.Values.OrderBy(e => e.Sequence))
            {
                if (!entry.Released)
                {
                    connection.Send(entry.Packet.AsDuplicate());
                }
                else if (connAck.SessionPresent)
                {
                    connection.Send(new PubRelPacket { PacketId = entry.Packet.PacketId });
                }
                else
                {
                    // The broker acknowledged receipt (PUBREC) before the session was lost; it owns the message.
                    CompleteOutbound(entry.Packet.PacketId, null);
                }
            }
            SendWaitingPublishes();

            // Re-subscribe after every CONNACK, also with Session Present: a broker may have lost or
            // expired the subscriptions, and SUBSCRIBE is idempotent (§3.8.4).
            foreach (var chunk in _subscriptions.Values.Chunk(64))
            {
                var filters = string.Join(", ", chunk.Select(s => s.Filter));
                SendRequest(connection, id => new SubscribePacket { PacketId = id, Subscriptions = chunk }).ContinueWith(t =>
                {
                    if (t.IsCompletedSuccessfully && t.Result is SubAckPacket ack && ack.ReasonCodes.Any(c => c >= 0x80))
                        MqttLog.ResubscribeRefused(_logger, _clientId, filters, string.Join(",", ack.ReasonCodes.Select(c => $"0x{c:X2}")));
                }, TaskScheduler.Default);
            }
        }
        MqttLog.Connected(_logger, _clientId, connection.Generation, _options.Host, _options.Port, (int)_options.ProtocolVersion, connAck.SessionPresent, keepAlive);
        Connected?.Invoke(connAck.SessionPresent);
    }

    private Task<MqttPacket> SendRequest(MqttConnection connection, Func<ushort, MqttPacket> build)
    {
        var id = AllocatePacketId();
        var response = new TaskCompletionSource<MqttPacket>(TaskCreationOptions.RunContinuationsAsynchronously);
        _requests[id] = response;
        connection.Send(build(id));
        return response.Task;
    }

    private void FailRequests(Exception reason)
    {
        foreach (var request in _requests.Values)
            request.TrySetException(reason);
        _requests.Clear();
    }

    // MQTT 5.0 §2.2.1: a Packet Identifier is free again once its exchange completes.
    private ushort AllocatePacketId()
    {
        for (var i = 0; i < ushort.MaxValue; i++)
        {
            _lastPacketId = _lastPacketId == ushort.MaxValue ? (ushort)1 : (ushort)(_lastPacketId + 1);
            if (!_outbound.ContainsKey(_lastPacketId) && !_requests.ContainsKey(_lastPacketId))
                return _lastPacketId;
        }
        throw new InvalidOperationException("All 65535 packet identifiers are in use");
    }

    private void OnPacket(MqttConnection connection, MqttPacket packet)
    {
        switch (packet)
        {
            case PublishPacket publish:
                OnPublish(connection, publish);
                break;
            case PubAckPacket ack:
                lock (_gate)
                    CompleteOutbound(ack.PacketId, ack.ReasonCode >= 0x80 ? ack.ReasonCode : null, MqttQualityOfService.AtLeastOnce);
                break;
            case PubRecPacket rec:
                OnPubRec(connection, rec);
                break;
            case PubCompPacket comp:
                lock (_gate)
                    CompleteOutbound(comp.PacketId, comp.ReasonCode >= 0x80 ? comp.ReasonCode : null, MqttQualityOfService.ExactlyOnce);
                break;
            case PubRelPacket rel:
                lock (_gate)
                {
                    // MQTT 5.0 §4.3.3: PUBREL releases the packet identifier; answer PUBCOMP even for an unknown one.
                    var known = _inboundQoS2Released.Remove(rel.PacketId);
                    var code = known || _options.ProtocolVersion == MqttProtocolVersion.V311 ? MqttReasonCode.Success : MqttReasonCode.PacketIdentifierNotFound;
                    connection.Send(new PubCompPacket { PacketId = rel.PacketId, ReasonCode = code });
                }
                break;
            case SubAckPacket or UnsubAckPacket:
                var id = packet is SubAckPacket s ? s.PacketId : ((UnsubAckPacket)packet).PacketId;
                lock (_gate)
                {
                    if (_requests.Remove(id, out var request))
                        request.TrySetResult(packet);
                    else
                        MqttLog.UnknownPacketId(_logger, _clientId, packet.Type.ToString(), id);
                }
                break;
            case PingRespPacket:
                break;
            case DisconnectPacket disconnect:
                // MQTT 5.0 §3.14: the server closes the connection after this; reconnect takes over.
                throw new IOException($"Broker sent DISCONNECT 0x{disconnect.ReasonCode:X2} {disconnect.Properties.ReasonString}");
            case AuthPacket:
                throw new MqttProtocolException(MqttReasonCode.ProtocolError, "Protocol error: AUTH without an Authentication Method in CONNECT (MQTT 5.0 §4.12)");
            default:
                throw new MqttProtocolException(MqttReasonCode.ProtocolError, $"Protocol error: a server does not send {packet.Type}");
        }
    }

    private void OnPublish(MqttConnection connection, PublishPacket publish)
    {
        // We advertise no Topic Alias Maximum, so the broker must not use aliases (MQTT 5.0 §3.2.2.3.8).
        if (publish.Properties.TopicAlias is not null)
            throw new MqttProtocolException(MqttReasonCode.TopicAliasInvalid, "Topic alias used although Topic Alias Maximum is 0");
        InboundAck? ack = null;
        if (publish.QoS != MqttQualityOfService.AtMostOnce)
        {
            lock (_gate)
            {
                if (publish.QoS == MqttQualityOfService.ExactlyOnce)
                {
                    if (_inboundQoS2Released.Contains(publish.PacketId))
                    {
                        // Already accepted: answer PUBREC again, do not deliver twice (§4.3.3).
                        connection.Send(new PubRecPacket { PacketId = publish.PacketId });
                        return;
                    }
                    if (connection.Acks.IsPending(publish.PacketId))
                        return; // the application holds it; PUBREC follows its ack
                }
                // MQTT 5.0 §3.3.4/§4.9: a broker must not exceed our Receive Maximum, and the spec's answer is DISCONNECT 0x93.
                // mosquitto 2.0.11 (Debian 12) overruns it when a backlog drains (2,000 messages in 10 ms against a window of
                // 1,000, measured by the telemetry load test); disconnecting then throws away the acks of the batch being
                // committed, the broker resends everything, overruns again, and ingestion stalls in a reconnect loop.
                // So an overrun is logged once per connection and tolerated. Memory stays bounded all the same: packet
                // identifiers are 16-bit, so no broker can hold more than 65,535 QoS 1/2 messages unacknowledged with us.
                var unacknowledged = connection.Acks.Count + _inboundQoS2Released.Count;
                if (_options.ProtocolVersion == MqttProtocolVersion.V500 && unacknowledged >= _options.ReceiveMaximum)
                {
                    if (!connection.ReceiveMaximumOverrunLogged)
                    {
                        connection.ReceiveMaximumOverrunLogged = true;
                        MqttLog.ReceiveMaximumOverrun(_logger, _clientId, _options.ReceiveMaximum, unacknowledged + 1);
                    }
                }
                ack = connection.Acks.Add(publish.PacketId, publish.QoS);
            }
        }
        var p = publish.Properties;
        var message = new MqttApplicationMessage(publish.Topic, publish.Payload, publish.QoS, publish.Retain, publish.Duplicate)
        {
            ContentType = p.ContentType,
            ResponseTopic = p.ResponseTopic,
            CorrelationData = p.CorrelationData,
            MessageExpiryInterval = p.MessageExpiryInterval,
            UserProperties = p.UserProperties,
            SubscriptionIdentifiers = p.SubscriptionIdentifiers,
            PacketId = publish.PacketId,
            Ack = ack,
            Connection = ack is null ? null : connection,
        };
        _messages.Writer.TryWrite(message);
    }

    private void OnPubRec(MqttConnection connection, PubRecPacket rec)
    {
        lock (_gate)
        {
            if (!_outbound.TryGetValue(rec.PacketId, out var entry) || entry.Packet.QoS != MqttQualityOfService.ExactlyOnce)
            {
                // MQTT 5.0 §4.3.3: unknown identifier → PUBREL with 0x92 so the broker can clean up.
                var code = _options.ProtocolVersion == MqttProtocolVersion.V500 ? MqttReasonCode.PacketIdentifierNotFound : MqttReasonCode.Success;
                connection.Send(new PubRelPacket { PacketId = rec.PacketId, ReasonCode = code });
                return;
            }
            if (rec.ReasonCode >= 0x80)
            {
                // §4.3.3: a failed PUBREC ends the exchange.
                CompleteOutbound(rec.PacketId, rec.ReasonCode);
                return;
            }
            entry.Released = true;
            connection.Send(new PubRelPacket { PacketId = rec.PacketId });
        }
    }

    private void CompleteOutbound(ushort packetId, byte? failure, MqttQualityOfService? expected = null)
    {
        if (!_outbound.TryGetValue(packetId, out var entry) || (expected is { } qos && entry.Packet.QoS != qos))
        {
            MqttLog.UnknownPacketId(_logger, _clientId, "acknowledgement", packetId);
            return;
        }
        _outbound.Remove(packetId);
        if (failure is { } code)
            entry.Completion.TrySetException(new MqttRequestException(code, $"PUBLISH to '{entry.Packet.Topic}' refused with 0x{code:X2}"));
        else
            entry.Completion.TrySetResult();
        SendWaitingPublishes();
    }

    // MQTT 5.0 §4.9: at most Receive Maximum QoS 1/2 PUBLISH packets await PUBACK/PUBCOMP. Waiting
    // messages take free slots strictly in call order, which keeps per-topic ordering (§4.6).
    // While disconnected they still get identifiers and are sent after the next CONNACK.
    private void SendWaitingPublishes()
    {
        while (_outbound.Count < _outboundLimit && _waitingForSlot.TryDequeue(out var entry))
        {
            entry.Packet.PacketId = AllocatePacketId();
            entry.Sequence = ++_publishSequence;
            _outbound[entry.Packet.PacketId] = entry;
            _current?.Send(entry.Packet);
        }
    }

    private sealed class OutboundPublish(PublishPacket packet)
    {
        public PublishPacket Packet { get; } = packet;
        public long Sequence { get; set; }

        /// <summary>PUBREC received and PUBREL sent (QoS 2 second half).</summary>
        public bool Released { get; set; }

        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
