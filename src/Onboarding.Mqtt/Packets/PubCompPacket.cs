namespace Onboarding.Mqtt.Packets;

/// <summary>PUBCOMP (MQTT 3.1.1 §3.7, MQTT 5.0 §3.7).</summary>
internal sealed class PubCompPacket : MqttPacket
{
    // MQTT 5.0 §3.7.2.1: reason codes allowed in PUBCOMP.
    private static ReadOnlySpan<byte> AllowedCodes => [0x00, 0x92];

    public override PacketType Type => PacketType.PubComp;

    public ushort PacketId { get; init; }
    public byte ReasonCode { get; init; }
    public MqttProperties Properties { get; init; } = new();

    protected override void WriteBody(MqttWriter writer, MqttProtocolVersion version) =>
        AcknowledgementBody.Write(writer, version, PacketId, ReasonCode, Properties);

    public static PubCompPacket Read(ReadOnlySpan<byte> body, MqttProtocolVersion version)
    {
        var (packetId, code, properties) = AcknowledgementBody.Read(body, version, AllowedCodes, "PUBCOMP");
        return new PubCompPacket { PacketId = packetId, ReasonCode = code, Properties = properties };
    }
}
