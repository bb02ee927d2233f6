namespace Onboarding.Mqtt;

/// <summary>A message received from the broker. QoS 1/2 messages must be passed to <see cref="MqttClient.AckAsync"/>.</summary>
public sealed class MqttApplicationMessage
{
    internal MqttApplicationMessage(string topic, ReadOnlyMemory<byte> payload, MqttQualityOfService qos, bool retain, bool duplicate)
    {
        Topic = topic;
        Payload = payload;
        QoS = qos;
        Retain = retain;
        Duplicate = duplicate;
    }

    public string Topic { get; }
    public ReadOnlyMemory<byte> Payload { get; }
    public MqttQualityOfService QoS { get; }
    public bool Retain { get; }

    /// <summary>DUP flag: the broker may have delivered this message before (§3.3.1.1).</summary>
    public bool Duplicate { get; }

    public string? ContentType { get; init; }
    public string? ResponseTopic { get; init; }
    public ReadOnlyMemory<byte>? CorrelationData { get; init; }
    public uint? MessageExpiryInterval { get; init; }
    public IReadOnlyList<KeyValuePair<string, string>> UserProperties { get; init; } = [];
    public IReadOnlyList<int> SubscriptionIdentifiers { get; init; } = [];

    /// <summary>Packet Identifier on the connection it arrived on (0 for QoS 0).</summary>
    public ushort PacketId { get; init; }

    internal InboundAck? Ack { get; init; }
    internal MqttConnection? Connection { get; init; }
}
