namespace Onboarding.Mqtt.Packets;

/// <summary>
/// The body shared by PUBACK, PUBREC, PUBREL and PUBCOMP (MQTT 5.0 §3.4.2-§3.7.2): packet identifier,
/// then in 5.0 an optional reason code and optional properties; both are omitted when the code is 0x00
/// and there are no properties (§3.4.2.1).
/// </summary>
internal static class AcknowledgementBody
{
    public static void Write(MqttWriter w, MqttProtocolVersion version, ushort packetId, byte reasonCode, MqttProperties properties)
    {
        if (packetId == 0)
            throw new ArgumentException("packet identifier 0", nameof(packetId));
        w.WriteUInt16(packetId);
        if (version != MqttProtocolVersion.V500)
            return;
        var hasProperties = properties.ReasonString is not null || properties.UserProperties.Count > 0;
        if (reasonCode == 0 && !hasProperties)
            return;
        w.WriteByte(reasonCode);
        if (hasProperties)
            properties.Write(w);
    }

    public static (ushort PacketId, byte ReasonCode, MqttProperties Properties) Read(
        ReadOnlySpan<byte> body, MqttProtocolVersion version, ReadOnlySpan<byte> allowedCodes, string name)
    {
        var r = new MqttReader(body);
        var packetId = r.ReadPacketIdentifier();
        byte code = 0;
        var properties = new MqttProperties();
        if (version == MqttProtocolVersion.V500)
        {
            if (!r.End)
            {
                code = r.ReadByte();
                if (!allowedCodes.Contains(code))
                    throw MqttReader.ProtocolError($"{name} reason code 0x{code:X2} is not allowed");
            }
            if (!r.End)
                properties = MqttProperties.Read(ref r, PropertyContext.Acknowledgement);
        }
        r.ExpectEnd(name);
        return (packetId, code, properties);
    }
}
