namespace Onboarding.Mqtt.Packets;

/// <summary>DISCONNECT (MQTT 3.1.1 §3.14, MQTT 5.0 §3.14).</summary>
internal sealed class DisconnectPacket : MqttPacket
{
    // MQTT 5.0 §3.14.2.1.
    private static ReadOnlySpan<byte> V5Codes =>
        [0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2];

    public override PacketType Type => PacketType.Disconnect;

    public byte ReasonCode { get; init; }
    public MqttProperties Properties { get; init; } = new();

    protected override void WriteBody(MqttWriter w, MqttProtocolVersion version)
    {
        if (version != MqttProtocolVersion.V500)
            return;
        // MQTT 5.0 §3.14.2.1: reason and properties may be omitted when the code is 0x00 and there are no properties.
        using var props = new MqttWriter();
        Properties.Write(props);
        var hasProperties = props.BodyLength > 1;
        if (ReasonCode == 0 && !hasProperties)
            return;
        w.WriteByte(ReasonCode);
        if (hasProperties)
            w.WriteBytes(props.Written.Span);
    }

    public static DisconnectPacket Read(ReadOnlySpan<byte> body, MqttProtocolVersion version)
    {
        var r = new MqttReader(body);
        if (version != MqttProtocolVersion.V500)
        {
            r.ExpectEnd("DISCONNECT");
            return new DisconnectPacket();
        }
        byte code = 0;
        var properties = new MqttProperties();
        if (!r.End)
        {
            code = r.ReadByte();
            if (!V5Codes.Contains(code))
                throw MqttReader.ProtocolError($"DISCONNECT reason code 0x{code:X2} is not defined");
        }
        if (!r.End)
            properties = MqttProperties.Read(ref r, PropertyContext.Disconnect);
        r.ExpectEnd("DISCONNECT");
        return new DisconnectPacket { ReasonCode = code, Properties = properties };
    }
}
