namespace Onboarding.Mqtt.Packets;

/// <summary>UNSUBACK (MQTT 3.1.1 §3.11, MQTT 5.0 §3.11).</summary>
internal sealed class UnsubAckPacket : MqttPacket
{
    // MQTT 5.0 §3.11.3.
    private static ReadOnlySpan<byte> V5Codes => [0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91];

    public override PacketType Type => PacketType.UnsubAck;

    public ushort PacketId { get; init; }

    /// <summary>One per filter in 5.0; always empty in 3.1.1, which has no payload (§3.11.3).</summary>
    public IReadOnlyList<byte> ReasonCodes { get; init; } = [];
    public MqttProperties Properties { get; init; } = new();

    protected override void WriteBody(MqttWriter w, MqttProtocolVersion version)
    {
        w.WriteUInt16(PacketId);
        if (version != MqttProtocolVersion.V500)
            return;
        Properties.Write(w);
        foreach (var code in ReasonCodes)
            w.WriteByte(code);
    }

    public static UnsubAckPacket Read(ReadOnlySpan<byte> body, MqttProtocolVersion version)
    {
        var r = new MqttReader(body);
        var packetId = r.ReadPacketIdentifier();
        if (version != MqttProtocolVersion.V500)
        {
            r.ExpectEnd("UNSUBACK");
            return new UnsubAckPacket { PacketId = packetId };
        }
        var properties = MqttProperties.Read(ref r, PropertyContext.UnsubAck);
        var codes = r.ReadToEnd();
        if (codes.IsEmpty)
            throw MqttReader.ProtocolError("UNSUBACK without reason codes");
        foreach (var code in codes)
        {
            if (!V5Codes.Contains(code))
                throw MqttReader.Malformed($"UNSUBACK reason code 0x{code:X2} is not allowed");
        }
        return new UnsubAckPacket { PacketId = packetId, ReasonCodes = codes.ToArray(), Properties = properties };
    }
}
