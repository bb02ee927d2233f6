namespace Onboarding.Mqtt.Packets;

/// <summary>The Will of a CONNECT packet (MQTT 5.0 §3.1.2.5, §3.1.3.2-4).</summary>
internal sealed class WillMessage
{
    public required string Topic { get; init; }
    public ReadOnlyMemory<byte> Payload { get; init; }
    public MqttQualityOfService QoS { get; init; }
    public bool Retain { get; init; }
    public MqttProperties Properties { get; init; } = new();
}

/// <summary>CONNECT (MQTT 3.1.1 §3.1, MQTT 5.0 §3.1).</summary>
internal sealed class ConnectPacket : MqttPacket
{
    private const string ProtocolName = "MQTT";

    public override PacketType Type => PacketType.Connect;

    public MqttProtocolVersion ProtocolVersion { get; init; } = MqttProtocolVersion.V500;
    public string ClientId { get; init; } = "";
    public bool CleanStart { get; init; } = true;
    public ushort KeepAliveSeconds { get; init; }
    public string? UserName { get; init; }
    public byte[]? Password { get; init; }
    public WillMessage? Will { get; init; }
    public MqttProperties Properties { get; init; } = new();

    protected override void WriteBody(MqttWriter w, MqttProtocolVersion version)
    {
        // The CONNECT packet announces its own version; the connection's version is not consulted.
        w.WriteString(ProtocolName);
        w.WriteByte((byte)ProtocolVersion);
        byte flags = 0;
        // MQTT 5.0 §3.1.2.3: Connect Flags.
        if (UserName is not null) flags |= 0x80;
        if (Password is not null) flags |= 0x40;
        if (Will is not null)
        {
            flags |= 0x04;
            flags |= (byte)((byte)Will.QoS << 3);
            if (Will.Retain) flags |= 0x20;
        }
        if (CleanStart) flags |= 0x02;
        if (ProtocolVersion == MqttProtocolVersion.V311 && UserName is null && Password is not null)
            throw new ArgumentException("MQTT 3.1.1 §3.1.2.9: a password requires a user name");
        w.WriteByte(flags);
        w.WriteUInt16(KeepAliveSeconds);
        if (ProtocolVersion == MqttProtocolVersion.V500)
            Properties.Write(w);

        // MQTT 5.0 §3.1.3: payload order is Client Identifier, Will Properties, Will Topic, Will Payload, User Name, Password.
        w.WriteString(ClientId, "client identifier");
        if (Will is not null)
        {
            if (ProtocolVersion == MqttProtocolVersion.V500)
                Will.Properties.Write(w);
            if (!MqttTopic.IsValidTopicName(Will.Topic))
                throw new ArgumentException("invalid will topic");
            w.WriteString(Will.Topic, "will topic");
            w.WriteBinary(Will.Payload.Span);
        }
        if (UserName is not null)
            w.WriteString(UserName, "user name");
        if (Password is not null)
            w.WriteBinary(Password);
    }

    public static ConnectPacket Read(ReadOnlySpan<byte> body)
    {
        var r = new MqttReader(body);
        // MQTT 5.0 §3.1.2.1/§3.1.2.2: unknown name or level → Unsupported Protocol Version.
        var name = r.ReadString();
        var level = r.ReadByte();
        if (name != ProtocolName || (level != (byte)MqttProtocolVersion.V311 && level != (byte)MqttProtocolVersion.V500))
            throw new MqttProtocolException(MqttReasonCode.UnsupportedProtocolVersion, $"Unsupported protocol {name} level {level}");
        var version = (MqttProtocolVersion)level;
        var flags = r.ReadByte();
        // MQTT 5.0 §3.1.2.3: the reserved flag MUST be 0, else Malformed Packet.
        if ((flags & 0x01) != 0)
            throw MqttReader.Malformed("CONNECT reserved flag set");
        var hasUser = (flags & 0x80) != 0;
        var hasPassword = (flags & 0x40) != 0;
        var willRetain = (flags & 0x20) != 0;
        var willQoS = (flags >> 3) & 0x03;
        var hasWill = (flags & 0x04) != 0;
        if (willQoS == 3)
            throw MqttReader.Malformed("Will QoS 3");
        // MQTT 5.0 §3.1.2.6/§3.1.2.7: without a Will, Will QoS and Will Retain are 0.
        if (!hasWill && (willQoS != 0 || willRetain))
            throw MqttReader.Malformed("Will QoS/Retain set without Will Flag");
        // MQTT 3.1.1 §3.1.2.9: no password without a user name (relaxed in 5.0 §3.1.2.9).
        if (version == MqttProtocolVersion.V311 && hasPassword && !hasUser)
            throw MqttReader.Malformed("password flag without user name flag");
        var keepAlive = r.ReadUInt16();
        var properties = version == MqttProtocolVersion.V500 ? MqttProperties.Read(ref r, PropertyContext.Connect) : new MqttProperties();
        var clientId = r.ReadString();
        WillMessage? will = null;
        if (hasWill)
        {
            var willProperties = version == MqttProtocolVersion.V500 ? MqttProperties.Read(ref r, PropertyContext.Will) : new MqttProperties();
            var topic = r.ReadString();
            if (!MqttTopic.IsValidTopicName(topic))
                throw new MqttProtocolException(MqttReasonCode.TopicNameInvalid, "Will Topic is not a valid topic name");
            will = new WillMessage
            {
                Topic = topic,
                Payload = r.ReadBinary().ToArray(),
                QoS = (MqttQualityOfService)willQoS,
                Retain = willRetain,
                Properties = willProperties,
            };
        }
        var userName = hasUser ? r.ReadString() : null;
        byte[]? password = hasPassword ? r.ReadBinary().ToArray() : null;
        r.ExpectEnd("CONNECT");
        return new ConnectPacket
        {
            ProtocolVersion = version,
            ClientId = clientId,
            CleanStart = (flags & 0x02) != 0,
            KeepAliveSeconds = keepAlive,
            UserName = userName,
            Password = password,
            Will = will,
            Properties = properties,
        };
    }
}
