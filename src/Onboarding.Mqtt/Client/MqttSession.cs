using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Onboarding.Mqtt.Packets;

namespace Onboarding.Mqtt;

/// <summary>
/// The client side of an MQTT session (MQTT 5.0 §4.1): the state that survives reconnects (packet identifiers,
/// QoS 1/2 publishes in flight and waiting for a slot, QoS 2 messages received and not yet released, subscriptions),
/// the connection it is attached to, and the protocol decisions on every packet the broker sends. Connecting and
/// reconnecting belong to <see cref="MqttConnectionSupervisor"/>; argument checks to <see cref="MqttClient"/>.
/// </summary>
internal sealed class MqttSession
{
    private readonly MqttClientOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<MqttApplicationMessage> _messages =
        Channel.CreateUnbounded<MqttApplicationMessage>(new UnboundedChannelOptions { SingleWriter = true });

    // Session state: survives reconnects (MQTT 5.0 §4.1).
    private readonly Dictionary<ushort, OutboundPublish> _outbound = [];
    private readonly HashSet<ushort> _inboundQoS2Released = []; // PUBREC sent, waiting for PUBREL (§4.3.3)
    private readonly Dictionary<string, TopicSubscription> _subscriptions = new(StringComparer.Ordinal);
    private readonly Queue<OutboundPublish> _waitingForSlot = new(); // beyond the broker's Receive Maximum, in call order
    private int _outboundLimit = ushort.MaxValue;
    private ushort _lastPacketId;
    private long _publishSequence;

    // State of the attached connection.
    private readonly Dictionary<ushort, PendingRequest> _requests = [];
    private readonly List<InboundAck> _readyAcks = [];
    private MqttConnection? _current;

    public MqttSession(MqttClientOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
        ClientId = options.ClientId;
    }

    /// <summary>
    /// The client's one lock. It guards this session and the connection attached to it, and the supervisor takes it
    /// too where its own state must change together with the attachment (connect, disconnect).
    /// </summary>
    public Lock Gate { get; } = new();

    public ChannelReader<MqttApplicationMessage> Messages => _messages.Reader;

    /// <summary>Client Identifier in use (the broker may assign one, MQTT 5.0 §3.2.2.3.7).</summary>
    public string ClientId { get; private set; }

    /// <summary>Set once the client is disposed: nothing is queued any more.</summary>
    public bool IsClosed { get; private set; }

    // The broker's limits from the last CONNACK (MQTT 5.0 §3.2.2.3).
    public uint BrokerMaximumPacketSize { get; private set; } = uint.MaxValue;
    public MqttQualityOfService BrokerMaximumQoS { get; private set; } = MqttQualityOfService.ExactlyOnce;
    public bool BrokerRetainAvailable { get; private set; } = true;

    /// <summary>The connection the session is attached to; null while disconnected.</summary>
    public MqttConnection? Current
    {
        get
        {
            lock (Gate)
                return _current;
        }
    }

    /// <summary>
    /// Attaches a connection whose CONNACK accepted us: takes over the broker's limits, starts the connection's loops,
    /// resends what is unacknowledged and renews every subscription.
    /// </summary>
    public void Attach(MqttConnection connection, ConnAckPacket connAck, TimeSpan keepAlive, CancellationToken cancellationToken)
    {
        var p = connAck.Properties;
        lock (Gate)
        {
            // DisconnectAsync may have run while CONNACK was in flight: do not resurrect the client.
            cancellationToken.ThrowIfCancellationRequested();
            if (p.AssignedClientIdentifier is { } assigned)
                ClientId = assigned; // MQTT 5.0 §3.2.2.3.7: reuse it so the session can be resumed
            BrokerMaximumPacketSize = p.MaximumPacketSize ?? uint.MaxValue;
            BrokerRetainAvailable = p.RetainAvailable != 0;
            BrokerMaximumQoS = p.MaximumQoS is 0 ? MqttQualityOfService.AtMostOnce : p.MaximumQoS is 1 ? MqttQualityOfService.AtLeastOnce : MqttQualityOfService.ExactlyOnce;
            _outboundLimit = p.ReceiveMaximum ?? ushort.MaxValue;
            if (!connAck.SessionPresent)
                _inboundQoS2Released.Clear(); // §4.1: a new session has no state
            _current = connection;
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
                        MqttLog.ResubscribeRefused(_logger, ClientId, filters, string.Join(",", ack.ReasonCodes.Select(c => $"0x{c:X2}")));
                }, TaskScheduler.Default);
            }
        }
    }

    /// <summary>Detaches <paramref name="connection"/> if it is still the attached one; false if it no longer was.</summary>
    public bool Detach(MqttConnection connection, Exception? reason)
    {
        lock (Gate)
        {
            if (!ReferenceEquals(_current, connection))
                return false;
            _current = null;
            FailRequests(new IOException("Connection lost", reason));
            return true;
        }
    }

    /// <summary>Detaches whatever connection is attached (a local disconnect) and returns it.</summary>
    public MqttConnection? Detach()
    {
        lock (Gate)
        {
            var connection = _current;
            _current = null;
            FailRequests(new IOException("Disconnected"));
            return connection;
        }
    }

    /// <summary>Fails every publish still in the session and completes <see cref="Messages"/>; for disposal.</summary>
    public void Close()
    {
        lock (Gate)
        {
            IsClosed = true;
            foreach (var entry in _outbound.Values.Concat(_waitingForSlot))
                entry.Completion.TrySetException(new ObjectDisposedException(nameof(MqttClient)));
            _outbound.Clear();
            _waitingForSlot.Clear();
        }
        _messages.Writer.TryComplete();
    }

    /// <summary>Sends a QoS 0 PUBLISH on the attached connection; false while disconnected (QoS 0 is never queued).</summary>
    public bool TrySendAtMostOnce(PublishPacket packet)
    {
        lock (Gate)
            return _current is not null && _current.Send(packet);
    }

    /// <summary>Queues a QoS 1/2 PUBLISH; the task completes on PUBACK / PUBCOMP, or fails with the broker's refusal.</summary>
    public Task Publish(PublishPacket packet)
    {
        var entry = new OutboundPublish(packet);
        lock (Gate)
        {
            ObjectDisposedException.ThrowIf(IsClosed, typeof(MqttClient));
            _waitingForSlot.Enqueue(entry);
            SendWaitingPublishes();
        }
        return entry.Completion.Task;
    }

    /// <summary>Remembers a subscription and sends SUBSCRIBE; null while disconnected (it is renewed after the next CONNACK).</summary>
    public Task<MqttPacket>? Subscribe(TopicSubscription subscription)
    {
        lock (Gate)
        {
            _subscriptions[subscription.Filter] = subscription;
            return _current is null ? null : SendRequest(_current, id => new SubscribePacket { PacketId = id, Subscriptions = [subscription] });
        }
    }

    /// <summary>
    /// Forgets a subscription and sends UNSUBSCRIBE (also for a filter this client never subscribed: a persistent session
    /// may hold it from an earlier run). Null while disconnected: the filter is forgotten here, but the broker's session
    /// may still hold it, and nothing is queued to remove it later.
    /// </summary>
    public Task<MqttPacket>? Unsubscribe(string topicFilter)
    {
        lock (Gate)
        {
            _subscriptions.Remove(topicFilter);
            return _current is null ? null : SendRequest(_current, id => new UnsubscribePacket { PacketId = id, Filters = [topicFilter] });
        }
    }

    /// <summary>Forgets a subscription the broker refused.</summary>
    public void ForgetSubscription(string topicFilter)
    {
        lock (Gate)
            _subscriptions.Remove(topicFilter);
    }

    /// <summary>See <see cref="MqttClient.Ack(IReadOnlyList{MqttApplicationMessage})"/>: one lock for the whole batch.</summary>
    public void Ack(IReadOnlyList<MqttApplicationMessage> messages)
    {
        lock (Gate)
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

    private Task<MqttPacket> SendRequest(MqttConnection connection, Func<ushort, MqttPacket> build)
    {
        var id = AllocatePacketId();
        var response = new TaskCompletionSource<MqttPacket>(TaskCreationOptions.RunContinuationsAsynchronously);
        var packet = build(id);
        _requests[id] = packet switch
        {
            SubscribePacket subscribe => new PendingRequest(response, PacketType.SubAck, subscribe.Subscriptions.Count),
            UnsubscribePacket unsubscribe => new PendingRequest(response, PacketType.UnsubAck, unsubscribe.Filters.Count),
            _ => throw new ArgumentException($"{packet.Type} is not a request", nameof(build)),
        };
        connection.Send(packet);
        return response.Task;
    }

    private void FailRequests(Exception reason)
    {
        foreach (var request in _requests.Values)
            request.Response.TrySetException(reason);
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

    /// <summary>Every packet the broker sends after CONNACK; runs on the connection's read loop, one packet at a time.</summary>
    private void OnPacket(MqttConnection connection, MqttPacket packet)
    {
        switch (packet)
        {
            case PublishPacket publish:
                OnPublish(connection, publish);
                break;
            case PubAckPacket ack:
                lock (Gate)
                    CompleteOutbound(ack.PacketId, ack.ReasonCode >= 0x80 ? ack.ReasonCode : null, MqttQualityOfService.AtLeastOnce);
                break;
            case PubRecPacket rec:
                OnPubRec(connection, rec);
                break;
            case PubCompPacket comp:
                lock (Gate)
                    CompleteOutbound(comp.PacketId, comp.ReasonCode >= 0x80 ? comp.ReasonCode : null, MqttQualityOfService.ExactlyOnce);
                break;
            case PubRelPacket rel:
                lock (Gate)
                {
                    // MQTT 5.0 §4.3.3: PUBREL releases the packet identifier; answer PUBCOMP even for an unknown one.
                    var known = _inboundQoS2Released.Remove(rel.PacketId);
                    var code = known || _options.ProtocolVersion == MqttProtocolVersion.V311 ? MqttReasonCode.Success : MqttReasonCode.PacketIdentifierNotFound;
                    connection.Send(new PubCompPacket { PacketId = rel.PacketId, ReasonCode = code });
                }
                break;
            case SubAckPacket or UnsubAckPacket:
                var (id, codes) = packet is SubAckPacket s ? (s.PacketId, s.ReasonCodes) : (((UnsubAckPacket)packet).PacketId, ((UnsubAckPacket)packet).ReasonCodes);
                lock (Gate)
                {
                    if (!_requests.Remove(id, out var request))
                    {
                        MqttLog.UnknownPacketId(_logger, ClientId, packet.Type.ToString(), id);
                        break;
                    }
                    // MQTT 5.0 §3.9.3, §3.11.3: one reason code per Topic Filter of the request it answers, in order
                    // (a 3.1.1 UNSUBACK has none). Anything else fails the request and closes the connection with 0x82.
                    var expected = packet.Type == PacketType.UnsubAck && _options.ProtocolVersion != MqttProtocolVersion.V500 ? 0 : request.Filters;
                    var violation = packet.Type != request.Expected
                        ? $"Protocol error: {packet.Type} for packet identifier {id}, which awaits {request.Expected}"
                        : codes.Count != expected ? $"Protocol error: {packet.Type} with {codes.Count} reason codes for {request.Filters} topic filters" : null;
                    if (violation is not null)
                    {
                        var error = new MqttProtocolException(MqttReasonCode.ProtocolError, violation);
                        request.Response.TrySetException(error);
                        throw error;
                    }
                    request.Response.TrySetResult(packet);
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

    // The receive hot path (the ingester's): one lock for a QoS 1/2 message, one allocation for the message itself.
    private void OnPublish(MqttConnection connection, PublishPacket publish)
    {
        // We advertise no Topic Alias Maximum, so the broker must not use aliases (MQTT 5.0 §3.2.2.3.8).
        if (publish.Properties.TopicAlias is not null)
            throw new MqttProtocolException(MqttReasonCode.TopicAliasInvalid, "Topic alias used although Topic Alias Maximum is 0");
        InboundAck? ack = null;
        if (publish.QoS != MqttQualityOfService.AtMostOnce)
        {
            lock (Gate)
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
                        MqttLog.ReceiveMaximumOverrun(_logger, ClientId, _options.ReceiveMaximum, unacknowledged + 1);
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
        lock (Gate)
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
            MqttLog.UnknownPacketId(_logger, ClientId, "acknowledgement", packetId);
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

    /// <summary>A SUBSCRIBE or UNSUBSCRIBE awaiting its acknowledgement, and what that acknowledgement must hold.</summary>
    private sealed record PendingRequest(TaskCompletionSource<MqttPacket> Response, PacketType Expected, int Filters);
}
