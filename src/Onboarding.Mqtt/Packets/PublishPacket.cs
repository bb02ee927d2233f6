namespace Onboarding.Mqtt.Packets;

/// <summary>PUBLISH (MQTT 3.1.1 §3.3, MQTT 5.0 §3.3).</summary>
internal sealed class PublishPacket : MqttPacket
{
    public override PacketType Type => PacketType.Publish;

    public string Topic { get; init; } = "";
    public ReadOnlyMemory<byte> Payload { get; init; }
    public MqttQualityOfService QoS { get; init; }
    public bool Retain { get; init; }
    public bool Duplicate { get; set; }

    /// <summary>Non-zero for QoS 1 and 2, absent (0) for QoS 0 (MQTT 5.0 §3.3.2.2).</summary>
    public ushort PacketId { get; set; }

    public MqttProperties Properties { get; init; } = new();

    // MQTT 5.0 §3.3.1: DUP bit 3, QoS bits 2-1, RETAIN bit 0.
    public override byte Flags => (byte)((Duplicate ? 0x08 : 0) | ((byte)QoS << 1) | (Retain ? 0x01 : 0));

    /// <summary>A copy for retransmission with DUP set (MQTT 5.0 §3.3.1.1, §4.4).</summary>
    public PublishPacket AsDuplicate() => new()
    {
        Topic = Topic,
        Payload = Payload,
        QoS = QoS,
        Retain = Retain,
        Duplicate = true,
        PacketId = PacketId,
        Properties = Properties,
    };

    protected override void WriteBody(MqttWriter w, MqttProtocolVersion version)
    {
        if (QoS > MqttQualityOfService.ExactlyOnce)
            throw new ArgumentException("QoS must be 0, 1 or 2");
        if (QoS == MqttQualityOfService.AtMostOnce && (Duplicate || PacketId != 0))
            throw new ArgumentException("MQTT 5.0 §3.3.1.1: a QoS 0 PUBLISH has DUP 0 and no packet identifier");
        if (QoS != MqttQualityOfService.AtMostOnce && PacketId == 0)
            throw new ArgumentException("a QoS 1/2 PUBLISH needs a non-zero packet identifier");
        var aliasOnly = version == MqttProtocolVersion.V500 && Topic.Length == 0 && Properties.TopicAlias is not null;
        if (!aliasOnly && !MqttTopic.IsValidTopicName(Topic))
            throw new ArgumentException($"'{Topic}' is not a valid topic name (MQTT 5.0 §4.7)");
        w.WriteString(Topic, "topic name");
        if (QoS != MqttQualityOfService.AtMostOnce)
            w.WriteUInt16(PacketId);
        if (version == MqttProtocolVersion.V500)
            Properties.Write(w);
        w.WriteBytes(Payload.Span);
    }

    public static PublishPacket Read(ReadOnlySpan<byte> body, byte flags, MqttProtocolVersion version)
    {
        var qos = (flags >> 1) & 0x03;
        // MQTT 5.0 §3.3.1.2: QoS 3 is a Malformed Packet.
        if (qos == 3)
            throw MqttReader.Malformed("PUBLISH QoS 3");
        var dup = (flags & 0x08) != 0;
        // MQTT 5.0 §3.3.1.1: DUP MUST be 0 for QoS 0.
        if (qos == 0 && dup)
            throw MqttReader.Malformed("DUP set on a QoS 0 PUBLISH");
        var r = new MqttReader(body);
        var topic = r.ReadString();
        var packetId = qos > 0 ? r.ReadPacketIdentifier() : (ushort)0;
        var properties = version == MqttProtocolVersion.V500 ? MqttProperties.Read(ref r, PropertyContext.Publish) : new MqttProperties();
        if (topic.Length == 0)
        {
            // MQTT 5.0 §3.3.2.1: an empty Topic Name is allowed only with a Topic Alias.
            if (properties.TopicAlias is null)
                throw MqttReader.ProtocolError("empty topic name without Topic Alias");
        }
        else if (!MqttTopic.IsValidTopicName(topic))
        {
            throw new MqttProtocolException(MqttReasonCode.TopicNameInvalid, "Topic name contains wildcard characters (MQTT 5.0 §3.3.2.1)");
        }
        var payload = r.ReadToEnd();
        // MQTT 5.0 §3.3.2.3.2: Payload Format Indicator 1 means UTF-8 payload.
        if (properties.PayloadFormatIndicator == 1 && !MqttUtf8.IsValid(payload))
            throw new MqttProtocolException(MqttReasonCode.PayloadFormatInvalid, "Payload is marked UTF-8 but is not well-formed");
        return new PublishPacket
        {
            Topic = topic,
            Payload = payload.ToArray(),
            QoS = (MqttQualityOfService)qos,
            Retain = (flags & 0x01) != 0,
            Duplicate = dup,
            PacketId = packetId,
            Properties = properties,
        };
    }
}
