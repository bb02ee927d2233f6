namespace Onboarding.Mqtt.Packets;

/// <summary>PUBACK (MQTT 3.1.1 §3.4, MQTT 5.0 §3.4).</summary>
internal sealed class PubAckPacket : MqttPacket
{
    // MQTT 5.0 §3.4.2.1: reason codes allowed in PUBACK.
    private static ReadOnlySpan<byte> AllowedCodes => [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99];

    public override PacketType Type => PacketType.PubAck;

    public ushort PacketId { get; init; }
    public byte ReasonCode { get; init; }
    public MqttProperties Properties { get; init; } = new();

    protected override void WriteBody(MqttWriter writer, MqttProtocolVersion version) =>
        AcknowledgementBody.Write(writer, version, PacketId, ReasonCode, Properties);

    public static PubAckPacket Read(ReadOnlySpan<byte> body, MqttProtocolVersion version)
    {
        var (packetId, code, properties) = AcknowledgementBody.Read(body, version, AllowedCodes, "PUBACK");
        return new PubAckPacket { PacketId = packetId, ReasonCode = code, Properties = properties };
    }
}
