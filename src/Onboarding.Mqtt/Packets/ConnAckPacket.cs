namespace Onboarding.Mqtt.Packets;

/// <summary>CONNACK (MQTT 3.1.1 §3.2, MQTT 5.0 §3.2).</summary>
internal sealed class ConnAckPacket : MqttPacket
{
    public override PacketType Type => PacketType.ConnAck;

    public bool SessionPresent { get; init; }

    /// <summary>MQTT 5.0 reason code, or for 3.1.1 the raw Connect Return Code (0-5).</summary>
    public byte ReasonCode { get; init; }

    public MqttProperties Properties { get; init; } = new();

    // MQTT 5.0 §3.2.2.2 table.
    private static readonly byte[] V5ReasonCodes =
        [0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90, 0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F];

    /// <summary>The reason as an MQTT 5.0 code; 3.1.1 return codes (§3.2.2.3) are mapped.</summary>
    public byte ReasonCodeFor(MqttProtocolVersion version) => version == MqttProtocolVersion.V500 ? ReasonCode : ReasonCode switch
    {
        0 => MqttReasonCode.Success,
        1 => MqttReasonCode.UnsupportedProtocolVersion,
        2 => MqttReasonCode.ClientIdentifierNotValid,
        3 => MqttReasonCode.ServerUnavailable,
        4 => MqttReasonCode.BadUserNameOrPassword,
        5 => MqttReasonCode.NotAuthorized,
        _ => MqttReasonCode.UnspecifiedError,
    };

    protected override void WriteBody(MqttWriter w, MqttProtocolVersion version)
    {
        w.WriteByte(SessionPresent ? (byte)1 : (byte)0);
        w.WriteByte(ReasonCode);
        if (version == MqttProtocolVersion.V500)
            Properties.Write(w);
    }

    public static ConnAckPacket Read(ReadOnlySpan<byte> body, MqttProtocolVersion version)
    {
        var r = new MqttReader(body);
        var ackFlags = r.ReadByte();
        // MQTT 5.0 §3.2.2.1: bits 7-1 are reserved and MUST be 0.
        if ((ackFlags & 0xFE) != 0)
            throw MqttReader.Malformed("CONNACK reserved flags set");
        var code = r.ReadByte();
        var properties = new MqttProperties();
        if (version == MqttProtocolVersion.V500)
        {
            if (Array.IndexOf(V5ReasonCodes, code) < 0)
                throw MqttReader.ProtocolError($"CONNACK reason code 0x{code:X2} is not defined");
            properties = MqttProperties.Read(ref r, PropertyContext.ConnAck);
        }
        else if (code > 5)
        {
            throw MqttReader.ProtocolError($"CONNACK return code {code} is reserved (MQTT 3.1.1 §3.2.2.3)");
        }
        r.ExpectEnd("CONNACK");
        var sessionPresent = (ackFlags & 0x01) != 0;
        // MQTT 5.0 §3.2.2.1.1 / 3.1.1 §3.2.2.2: a refused connection has Session Present 0.
        if (sessionPresent && code != 0)
            throw MqttReader.ProtocolError("Session Present set on a refused connection");
        return new ConnAckPacket { SessionPresent = sessionPresent, ReasonCode = code, Properties = properties };
    }
}
