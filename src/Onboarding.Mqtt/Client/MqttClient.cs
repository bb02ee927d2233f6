using System.Net.Sockets;
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
    private readonly MqttSession _session;
    private readonly MqttConnectionSupervisor _supervisor;

    public MqttClient(MqttClientOptions options, ILogger<MqttClient>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var log = (ILogger?)logger ?? NullLogger.Instance;
        _session = new MqttSession(options, log);
        _supervisor = new MqttConnectionSupervisor(options, log, _session, sessionPresent => Connected?.Invoke(sessionPresent));
    }

    /// <summary>Received messages, in arrival order, across reconnects. Completed when the client is disposed.</summary>
    public ChannelReader<MqttApplicationMessage> Messages => _session.Messages;

    /// <summary>Client Identifier in use (the broker may assign one, MQTT 5.0 §3.2.2.3.7).</summary>
    public string ClientId => _session.ClientId;

    public bool IsConnected => _session.Current is not null;

    /// <summary>The current connection's TCP socket, for tests.</summary>
    internal Socket? CurrentSocket => _session.Current?.Socket;

    /// <summary>Raised after every successful CONNACK (messages of the new connection may already be flowing); the argument is Session Present.</summary>
    public event Action<bool>? Connected;

    /// <summary>
    /// Connects once (errors surface here, e.g. <see cref="MqttConnectException"/> for a refused CONNACK),
    /// then keeps the connection up in the background, reconnecting with exponential back-off and jitter.
    /// </summary>
    public Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_session.IsClosed, this);
        return _supervisor.StartAsync(cancellationToken);
    }

    /// <summary>
    /// Publishes and completes when the QoS handshake completes: at once for QoS 0, on PUBACK for QoS 1,
    /// on PUBCOMP for QoS 2. QoS 1/2 messages survive reconnects and are resent with DUP set.
    /// </summary>
    public async Task PublishAsync(string topic, ReadOnlyMemory<byte> payload, MqttQualityOfService qos = MqttQualityOfService.AtLeastOnce,
        bool retain = false, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_session.IsClosed, this);
        if (!MqttTopic.IsValidTopicName(topic))
            throw new ArgumentException($"'{topic}' is not a valid topic name (MQTT 5.0 §4.7)", nameof(topic));
        if (retain && !_session.BrokerRetainAvailable)
            throw new MqttRequestException(MqttReasonCode.RetainNotSupported, "The broker does not support retained messages (MQTT 5.0 §3.2.2.3.5)");
        if (qos > _session.BrokerMaximumQoS)
            throw new MqttRequestException(MqttReasonCode.QoSNotSupported, $"The broker supports QoS up to {(int)_session.BrokerMaximumQoS} (MQTT 5.0 §3.2.2.3.4)");
        // MQTT 5.0 §3.1.2.11.4: never send a packet larger than the broker's Maximum Packet Size.
        var size = 1 + 4 + 2 + (long)Encoding.UTF8.GetByteCount(topic) + 2 + 1 + payload.Length;
        if (size > VariableByteInteger.MaxValue)
            throw new ArgumentException("PUBLISH exceeds the largest possible MQTT packet (MQTT 5.0 §1.5.5)", nameof(payload));
        if (size > _session.BrokerMaximumPacketSize)
            throw new MqttRequestException(MqttReasonCode.PacketTooLarge, $"PUBLISH of {size} bytes exceeds the broker's maximum packet size {_session.BrokerMaximumPacketSize}");

        if (qos == MqttQualityOfService.AtMostOnce)
        {
            if (!_session.TrySendAtMostOnce(new PublishPacket { Topic = topic, Payload = payload.ToArray(), Retain = retain }))
                throw new InvalidOperationException("Not connected; QoS 0 messages are not queued");
            return;
        }

        var completion = _session.Publish(new PublishPacket { Topic = topic, Payload = payload.ToArray(), QoS = qos, Retain = retain });
        // Cancellation only stops the wait: a message already handed over may still be delivered.
        await completion.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Subscribes and remembers the subscription: it is renewed after every CONNACK. Filters may be
    /// shared subscriptions (<c>$share/{group}/{filter}</c>). Returns the granted QoS.
    /// </summary>
    public async Task<MqttQualityOfService> SubscribeAsync(string topicFilter, MqttQualityOfService qos = MqttQualityOfService.AtLeastOnce,
        CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_session.IsClosed, this);
        if (!MqttTopic.IsValidTopicFilter(topicFilter))
            throw new ArgumentException($"'{topicFilter}' is not a valid topic filter (MQTT 5.0 §4.7, §4.8.2)", nameof(topicFilter));
        if (_session.Subscribe(new TopicSubscription(topicFilter, qos)) is not { } response)
            return qos; // renewed with the other subscriptions after the next CONNACK
        var ack = (SubAckPacket)await response.WaitAsync(cancellationToken);
        var code = ack.ReasonCodes[0];
        if (code >= 0x80)
        {
            _session.ForgetSubscription(topicFilter);
            throw new MqttRequestException(code, $"SUBSCRIBE to '{topicFilter}' refused with 0x{code:X2}");
        }
        return (MqttQualityOfService)code;
    }

    /// <summary>
    /// Removes a subscription from the broker's session (MQTT 5.0 §3.10) and stops renewing it after CONNACK. Works for a
    /// filter this client never subscribed too: a persistent session may hold it from an earlier run. Returns the UNSUBACK
    /// reason code: 0x00 Success, or 0x11 No subscription existed (always 0x00 in 3.1.1, whose UNSUBACK has none).
    /// A refusal (≥ 0x80, §3.11.3) is <see cref="MqttRequestException"/>; a malformed or mismatched UNSUBACK closes the
    /// connection (which reconnects) and fails the call with <see cref="MqttProtocolException"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// While disconnected: the filter is no longer renewed, but the broker's session may still hold it (nothing is queued).
    /// </exception>
    public async Task<byte> UnsubscribeAsync(string topicFilter, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_session.IsClosed, this);
        if (!MqttTopic.IsValidTopicFilter(topicFilter))
            throw new ArgumentException($"'{topicFilter}' is not a valid topic filter (MQTT 5.0 §4.7, §4.8.2)", nameof(topicFilter));
        if (_session.Unsubscribe(topicFilter) is not { } response)
            throw new InvalidOperationException($"Not connected: UNSUBSCRIBE from '{topicFilter}' was not sent; the broker's session may still hold it");
        var ack = (UnsubAckPacket)await response.WaitAsync(cancellationToken);
        var code = ack.ReasonCodes.Count > 0 ? ack.ReasonCodes[0] : MqttReasonCode.Success;
        if (code >= 0x80)
            throw new MqttRequestException(code, $"UNSUBSCRIBE from '{topicFilter}' refused with 0x{code:X2}");
        return code;
    }

    /// <summary>
    /// Acknowledges a received message. PUBACK (QoS 1) / PUBREC (QoS 2) go out in arrival order: an ack
    /// is held back until every earlier message is acked too. Acks for messages from an earlier connection
    /// are dropped: the broker redelivers those messages (at least once).
    /// </summary>
    public ValueTask AckAsync(MqttApplicationMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        _session.Ack([message]);
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
        _session.Ack(messages);
    }

    /// <summary>
    /// Callback alternative to reading <see cref="Messages"/>: runs <paramref name="handler"/> for each message,
    /// one at a time, until cancelled or the client is disposed. The handler acks (or not) by calling <see cref="AckAsync"/>.
    /// </summary>
    public async Task ProcessMessagesAsync(Func<MqttApplicationMessage, CancellationToken, Task> handler, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        await foreach (var message in _session.Messages.ReadAllAsync(cancellationToken))
            await handler(message, cancellationToken);
    }

    /// <summary>Sends DISCONNECT and stops reconnecting. The session stays on the broker (Session Expiry permitting).</summary>
    public Task DisconnectAsync(CancellationToken cancellationToken = default) => _supervisor.StopAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_session.IsClosed)
            return;
        await DisconnectAsync();
        _session.Close();
    }

    /// <summary>Test hook: drops the network connection without DISCONNECT, as a network failure would.</summary>
    internal void AbortConnection() => _session.Current?.Close(new IOException("Connection aborted"));
}
