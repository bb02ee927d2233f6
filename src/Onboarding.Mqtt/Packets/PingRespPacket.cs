namespace Onboarding.Mqtt.Packets;

/// <summary>PINGRESP (MQTT 3.1.1 §3.13, MQTT 5.0 §3.13): fixed header only.</summary>
internal sealed class PingRespPacket : MqttPacket
{
    public static readonly PingRespPacket Instance = new();

    public override PacketType Type => PacketType.PingResp;

    protected override void WriteBody(MqttWriter writer, MqttProtocolVersion version)
    {
    }

    public static PingRespPacket Read(ReadOnlySpan<byte> body)
    {
        // MQTT 5.0 §3.13.2: no variable header and no payload.
        if (!body.IsEmpty)
            throw MqttReader.Malformed("PINGRESP with a non-zero remaining length");
        return Instance;
    }
}
