namespace Onboarding.Mqtt.Packets;

/// <summary>One Topic Filter with its Subscription Options (MQTT 5.0 §3.8.3.1).</summary>
internal sealed record TopicSubscription(
    string Filter,
    MqttQualityOfService QoS,
    bool NoLocal = false,
    bool RetainAsPublished = false,
    byte RetainHandling = 0);

/// <summary>SUBSCRIBE (MQTT 3.1.1 §3.8, MQTT 5.0 §3.8).</summary>
internal sealed class SubscribePacket : MqttPacket
{
    public override PacketType Type => PacketType.Subscribe;

    // MQTT 5.0 §3.8.1: bits 3-0 of the fixed header are 0010.
    public override byte Flags => 0x02;

    public ushort PacketId { get; init; }
    public IReadOnlyList<TopicSubscription> Subscriptions { get; init; } = [];
    public MqttProperties Properties { get; init; } = new();

    protected override void WriteBody(MqttWriter w, MqttProtocolVersion version)
    {
        if (Subscriptions.Count == 0)
            throw new ArgumentException("MQTT 5.0 §3.8.3: SUBSCRIBE needs at least one topic filter");
        w.WriteUInt16(PacketId);
        if (version == MqttProtocolVersion.V500)
            Properties.Write(w);
        foreach (var s in Subscriptions)
        {
            if (!MqttTopic.IsValidTopicFilter(s.Filter))
                throw new ArgumentException($"'{s.Filter}' is not a valid topic filter (MQTT 5.0 §4.7, §4.8.2)");
            w.WriteString(s.Filter, "topic filter");
            var options = (byte)s.QoS;
            if (version == MqttProtocolVersion.V500)
            {
                // MQTT 5.0 §3.8.3.1: bit 2 No Local, bit 3 Retain As Published, bits 4-5 Retain Handling.
                if (s.NoLocal) options |= 0x04;
                if (s.RetainAsPublished) options |= 0x08;
                options |= (byte)((s.RetainHandling & 0x03) << 4);
            }
            w.WriteByte(options);
        }
    }

    public static SubscribePacket Read(ReadOnlySpan<byte> body, MqttProtocolVersion version)
    {
        var r = new MqttReader(body);
        var packetId = r.ReadPacketIdentifier();
        var properties = version == MqttProtocolVersion.V500 ? MqttProperties.Read(ref r, PropertyContext.Subscribe) : new MqttProperties();
        var subscriptions = new List<TopicSubscription>();
        while (!r.End)
        {
            var filter = r.ReadString();
            var options = r.ReadByte();
            var qos = options & 0x03;
            if (qos == 3)
                throw MqttReader.Malformed("subscription QoS 3");
            // MQTT 3.1.1 §3.8.3.1: bits 7-2 reserved; MQTT 5.0 §3.8.3.1: bits 7-6 reserved.
            var reservedMask = version == MqttProtocolVersion.V500 ? 0xC0 : 0xFC;
            if ((options & reservedMask) != 0)
                throw MqttReader.Malformed("reserved subscription option bits set");
            var retainHandling = (byte)((options >> 4) & 0x03);
            if (retainHandling == 3)
                throw MqttReader.ProtocolError("Retain Handling 3");
            if (!MqttTopic.IsValidTopicFilter(filter))
                throw new MqttProtocolException(MqttReasonCode.TopicFilterInvalid, $"Invalid topic filter '{filter}'");
            var noLocal = (options & 0x04) != 0;
            // MQTT 5.0 §3.8.3.1: No Local on a Shared Subscription is a Protocol Error.
            if (noLocal && MqttTopic.IsShared(filter))
                throw MqttReader.ProtocolError("No Local on a shared subscription");
            subscriptions.Add(new TopicSubscription(filter, (MqttQualityOfService)qos, noLocal, (options & 0x08) != 0, retainHandling));
        }
        // MQTT 5.0 §3.8.3-2: a SUBSCRIBE with no payload is a Protocol Error.
        if (subscriptions.Count == 0)
            throw MqttReader.ProtocolError("SUBSCRIBE without topic filters");
        return new SubscribePacket { PacketId = packetId, Subscriptions = subscriptions, Properties = properties };
    }
}
