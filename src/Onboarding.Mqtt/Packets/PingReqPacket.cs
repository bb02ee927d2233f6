namespace Onboarding.Mqtt.Packets;

/// <summary>PINGREQ (MQTT 3.1.1 §3.12, MQTT 5.0 §3.12): fixed header only.</summary>
internal sealed class PingReqPacket : MqttPacket
{
    public static readonly PingReqPacket Instance = new();

    public override PacketType Type => PacketType.PingReq;

    protected override void WriteBody(MqttWriter writer, MqttProtocolVersion version)
    {
    }

    public static PingReqPacket Read(ReadOnlySpan<byte> body)
    {
        // MQTT 5.0 §3.12.2: no variable header and no payload.
        if (!body.IsEmpty)
            throw MqttReader.Malformed("PINGREQ with a non-zero remaining length");
        return Instance;
    }
}
