namespace Onboarding.Mqtt.Packets;

/// <summary>SUBACK (MQTT 3.1.1 §3.9, MQTT 5.0 §3.9).</summary>
internal sealed class SubAckPacket : MqttPacket
{
    // MQTT 3.1.1 §3.9.3: 0x00, 0x01, 0x02 or 0x80.
    private static ReadOnlySpan<byte> V311Codes => [0x00, 0x01, 0x02, 0x80];

    // MQTT 5.0 §3.9.3.
    private static ReadOnlySpan<byte> V5Codes => [0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2];

    public override PacketType Type => PacketType.SubAck;

    public ushort PacketId { get; init; }
    public IReadOnlyList<byte> ReasonCodes { get; init; } = [];
    public MqttProperties Properties { get; init; } = new();

    protected override void WriteBody(MqttWriter w, MqttProtocolVersion version)
    {
        w.WriteUInt16(PacketId);
        if (version == MqttProtocolVersion.V500)
            Properties.Write(w);
        foreach (var code in ReasonCodes)
            w.WriteByte(code);
    }

    public static SubAckPacket Read(ReadOnlySpan<byte> body, MqttProtocolVersion version)
    {
        var r = new MqttReader(body);
        var packetId = r.ReadPacketIdentifier();
        var properties = version == MqttProtocolVersion.V500 ? MqttProperties.Read(ref r, PropertyContext.SubAck) : new MqttProperties();
        var codes = r.ReadToEnd();
        if (codes.IsEmpty)
            throw MqttReader.ProtocolError("SUBACK without reason codes");
        var allowed = version == MqttProtocolVersion.V500 ? V5Codes : V311Codes;
        foreach (var code in codes)
        {
            if (!allowed.Contains(code))
                throw MqttReader.Malformed($"SUBACK reason code 0x{code:X2} is not allowed");
        }
        return new SubAckPacket { PacketId = packetId, ReasonCodes = codes.ToArray(), Properties = properties };
    }
}
