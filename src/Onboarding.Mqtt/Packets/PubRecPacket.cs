namespace Onboarding.Mqtt.Packets;

/// <summary>PUBREC (MQTT 3.1.1 §3.5, MQTT 5.0 §3.5).</summary>
internal sealed class PubRecPacket : MqttPacket
{
    // MQTT 5.0 §3.5.2.1: reason codes allowed in PUBREC.
    private static ReadOnlySpan<byte> AllowedCodes => [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99];

    public override PacketType Type => PacketType.PubRec;

    public ushort PacketId { get; init; }
    public byte ReasonCode { get; init; }
    public MqttProperties Properties { get; init; } = new();

    protected override void WriteBody(MqttWriter writer, MqttProtocolVersion version) =>
        AcknowledgementBody.Write(writer, version, PacketId, ReasonCode, Properties);

    public static PubRecPacket Read(ReadOnlySpan<byte> body, MqttProtocolVersion version)
    {
        var (packetId, code, properties) = AcknowledgementBody.Read(body, version, AllowedCodes, "PUBREC");
        return new PubRecPacket { PacketId = packetId, ReasonCode = code, Properties = properties };
    }
}
