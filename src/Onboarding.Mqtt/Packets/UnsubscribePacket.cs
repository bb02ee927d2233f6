namespace Onboarding.Mqtt.Packets;

/// <summary>UNSUBSCRIBE (MQTT 3.1.1 §3.10, MQTT 5.0 §3.10).</summary>
internal sealed class UnsubscribePacket : MqttPacket
{
    public override PacketType Type => PacketType.Unsubscribe;

    // MQTT 5.0 §3.10.1: bits 3-0 of the fixed header are 0010.
    public override byte Flags => 0x02;

    public ushort PacketId { get; init; }
    public IReadOnlyList<string> Filters { get; init; } = [];
    public MqttProperties Properties { get; init; } = new();

    protected override void WriteBody(MqttWriter w, MqttProtocolVersion version)
    {
        if (Filters.Count == 0)
            throw new ArgumentException("MQTT 5.0 §3.10.3: UNSUBSCRIBE needs at least one topic filter");
        w.WriteUInt16(PacketId);
        if (version == MqttProtocolVersion.V500)
            Properties.Write(w);
        foreach (var filter in Filters)
        {
            if (!MqttTopic.IsValidTopicFilter(filter))
                throw new ArgumentException($"'{filter}' is not a valid topic filter");
            w.WriteString(filter, "topic filter");
        }
    }

    public static UnsubscribePacket Read(ReadOnlySpan<byte> body, MqttProtocolVersion version)
    {
        var r = new MqttReader(body);
        var packetId = r.ReadPacketIdentifier();
        var properties = version == MqttProtocolVersion.V500 ? MqttProperties.Read(ref r, PropertyContext.Unsubscribe) : new MqttProperties();
        var filters = new List<string>();
        while (!r.End)
        {
            var filter = r.ReadString();
            if (!MqttTopic.IsValidTopicFilter(filter))
                throw new MqttProtocolException(MqttReasonCode.TopicFilterInvalid, $"Invalid topic filter '{filter}'");
            filters.Add(filter);
        }
        // MQTT 5.0 §3.10.3-2: at least one Topic Filter.
        if (filters.Count == 0)
            throw MqttReader.ProtocolError("UNSUBSCRIBE without topic filters");
        return new UnsubscribePacket { PacketId = packetId, Filters = filters, Properties = properties };
    }
}
