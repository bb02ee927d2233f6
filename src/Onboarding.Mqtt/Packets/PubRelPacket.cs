namespace Onboarding.Mqtt.Packets;

/// <summary>PUBREL (MQTT 3.1.1 §3.6, MQTT 5.0 §3.6).</summary>
internal sealed class PubRelPacket : MqttPacket
{
    // MQTT 5.0 §3.6.2.1: reason codes allowed in PUBREL.
    private static ReadOnlySpan<byte> AllowedCodes => [0x00, 0x92];

    public override PacketType Type => PacketType.PubRel;

    // MQTT 5.0 §3.6.1: bits 3-0 of the fixed header are 0010.
    public override byte Flags => 0x02;

    public ushort PacketId { get; init; }
    public byte ReasonCode { get; init; }
    public MqttProperties Properties { get; init; } = new();

    protected override void WriteBody(MqttWriter writer, MqttProtocolVersion version) =>
        AcknowledgementBody.Write(writer, version, PacketId, ReasonCode, Properties);

    public static PubRelPacket Read(ReadOnlySpan<byte> body, MqttProtocolVersion version)
    {
        var (packetId, code, properties) = AcknowledgementBody.Read(body, version, AllowedCodes, "PUBREL");
        return new PubRelPacket { PacketId = packetId, ReasonCode = code, Properties = properties };
    }
}
