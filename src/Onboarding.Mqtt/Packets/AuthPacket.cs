namespace Onboarding.Mqtt.Packets;

/// <summary>AUTH (MQTT 5.0 §3.15); does not exist in 3.1.1, where type 15 is reserved.</summary>
internal sealed class AuthPacket : MqttPacket
{
    // MQTT 5.0 §3.15.2.1.
    private static ReadOnlySpan<byte> Codes => [0x00, 0x18, 0x19];

    public override PacketType Type => PacketType.Auth;

    public byte ReasonCode { get; init; }
    public MqttProperties Properties { get; init; } = new();

    protected override void WriteBody(MqttWriter w, MqttProtocolVersion version)
    {
        if (version != MqttProtocolVersion.V500)
            throw new InvalidOperationException("AUTH exists only in MQTT 5.0");
        using var props = new MqttWriter();
        Properties.Write(props);
        // MQTT 5.0 §3.15.2.1: everything may be omitted for Success without properties.
        if (ReasonCode == 0 && props.BodyLength == 1)
            return;
        w.WriteByte(ReasonCode);
        w.WriteBytes(props.Written.Span);
    }

    public static AuthPacket Read(ReadOnlySpan<byte> body, MqttProtocolVersion version)
    {
        if (version != MqttProtocolVersion.V500)
            throw MqttReader.Malformed("packet type 15 is reserved in MQTT 3.1.1");
        var r = new MqttReader(body);
        if (r.End)
            return new AuthPacket();
        var code = r.ReadByte();
        if (!Codes.Contains(code))
            throw MqttReader.ProtocolError($"AUTH reason code 0x{code:X2} is not defined");
        var properties = r.End ? new MqttProperties() : MqttProperties.Read(ref r, PropertyContext.Auth);
        r.ExpectEnd("AUTH");
        return new AuthPacket { ReasonCode = code, Properties = properties };
    }
}
