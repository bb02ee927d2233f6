namespace Onboarding.Mqtt.Packets;

/// <summary>Where a property block sits; each property is valid only in some of these (MQTT 5.0 §2.2.2.2).</summary>
[Flags]
internal enum PropertyContext
{
    None = 0,
    Connect = 1 << 0,
    Will = 1 << 1,
    ConnAck = 1 << 2,
    Publish = 1 << 3,
    Acknowledgement = 1 << 4, // PUBACK, PUBREC, PUBREL, PUBCOMP
    Subscribe = 1 << 5,
    SubAck = 1 << 6,
    Unsubscribe = 1 << 7,
    UnsubAck = 1 << 8,
    Disconnect = 1 << 9,
    Auth = 1 << 10,
    All = (1 << 11) - 1,
}

/// <summary>Property identifiers (MQTT 5.0 §2.2.2.2, table 2-4).</summary>
internal static class PropertyId
{
    public const int PayloadFormatIndicator = 0x01;
    public const int MessageExpiryInterval = 0x02;
    public const int ContentType = 0x03;
    public const int ResponseTopic = 0x08;
    public const int CorrelationData = 0x09;
    public const int SubscriptionIdentifier = 0x0B;
    public const int SessionExpiryInterval = 0x11;
    public const int AssignedClientIdentifier = 0x12;
    public const int ServerKeepAlive = 0x13;
    public const int AuthenticationMethod = 0x15;
    public const int AuthenticationData = 0x16;
    public const int RequestProblemInformation = 0x17;
    public const int WillDelayInterval = 0x18;
    public const int RequestResponseInformation = 0x19;
    public const int ResponseInformation = 0x1A;
    public const int ServerReference = 0x1C;
    public const int ReasonString = 0x1F;
    public const int ReceiveMaximum = 0x21;
    public const int TopicAliasMaximum = 0x22;
    public const int TopicAlias = 0x23;
    public const int MaximumQoS = 0x24;
    public const int RetainAvailable = 0x25;
    public const int UserProperty = 0x26;
    public const int MaximumPacketSize = 0x27;
    public const int WildcardSubscriptionAvailable = 0x28;
    public const int SubscriptionIdentifierAvailable = 0x29;
    public const int SharedSubscriptionAvailable = 0x2A;
}

/// <summary>
/// An MQTT 5.0 property block (§2.2.2). Unset properties are null. Reading enforces the packet each
/// identifier may appear in, the data type, the allowed values, and the "at most once" rule.
/// </summary>
internal sealed class MqttProperties
{
    private const PropertyContext WillOrPublish = PropertyContext.Will | PropertyContext.Publish;

    public byte? PayloadFormatIndicator { get; set; }
    public uint? MessageExpiryInterval { get; set; }
    public string? ContentType { get; set; }
    public string? ResponseTopic { get; set; }
    public byte[]? CorrelationData { get; set; }
    public List<int> SubscriptionIdentifiers { get; } = [];
    public uint? SessionExpiryInterval { get; set; }
    public string? AssignedClientIdentifier { get; set; }
    public ushort? ServerKeepAlive { get; set; }
    public string? AuthenticationMethod { get; set; }
    public byte[]? AuthenticationData { get; set; }
    public byte? RequestProblemInformation { get; set; }
    public uint? WillDelayInterval { get; set; }
    public byte? RequestResponseInformation { get; set; }
    public string? ResponseInformation { get; set; }
    public string? ServerReference { get; set; }
    public string? ReasonString { get; set; }
    public ushort? ReceiveMaximum { get; set; }
    public ushort? TopicAliasMaximum { get; set; }
    public ushort? TopicAlias { get; set; }
    public byte? MaximumQoS { get; set; }
    public byte? RetainAvailable { get; set; }
    public List<KeyValuePair<string, string>> UserProperties { get; } = [];
    public uint? MaximumPacketSize { get; set; }
    public byte? WildcardSubscriptionAvailable { get; set; }
    public byte? SubscriptionIdentifierAvailable { get; set; }
    public byte? SharedSubscriptionAvailable { get; set; }

    /// <summary>Which packets each identifier is allowed in (MQTT 5.0 §2.2.2.2 table 2-4).</summary>
    private static PropertyContext AllowedIn(int id) => id switch
    {
        PropertyId.PayloadFormatIndicator => WillOrPublish,
        PropertyId.MessageExpiryInterval => WillOrPublish,
        PropertyId.ContentType => WillOrPublish,
        PropertyId.ResponseTopic => WillOrPublish,
        PropertyId.CorrelationData => WillOrPublish,
        PropertyId.SubscriptionIdentifier => PropertyContext.Publish | PropertyContext.Subscribe,
        PropertyId.SessionExpiryInterval => PropertyContext.Connect | PropertyContext.ConnAck | PropertyContext.Disconnect,
        PropertyId.AssignedClientIdentifier => PropertyContext.ConnAck,
        PropertyId.ServerKeepAlive => PropertyContext.ConnAck,
        PropertyId.AuthenticationMethod => PropertyContext.Connect | PropertyContext.ConnAck | PropertyContext.Auth,
        PropertyId.AuthenticationData => PropertyContext.Connect | PropertyContext.ConnAck | PropertyContext.Auth,
        PropertyId.RequestProblemInformation => PropertyContext.Connect,
        PropertyId.WillDelayInterval => PropertyContext.Will,
        PropertyId.RequestResponseInformation => PropertyContext.Connect,
        PropertyId.ResponseInformation => PropertyContext.ConnAck,
        PropertyId.ServerReference => PropertyContext.ConnAck | PropertyContext.Disconnect,
        PropertyId.ReasonString => PropertyContext.ConnAck | PropertyContext.Acknowledgement | PropertyContext.SubAck
            | PropertyContext.UnsubAck | PropertyContext.Disconnect | PropertyContext.Auth,
        PropertyId.ReceiveMaximum => PropertyContext.Connect | PropertyContext.ConnAck,
        PropertyId.TopicAliasMaximum => PropertyContext.Connect | PropertyContext.ConnAck,
        PropertyId.TopicAlias => PropertyContext.Publish,
        PropertyId.MaximumQoS => PropertyContext.ConnAck,
        PropertyId.RetainAvailable => PropertyContext.ConnAck,
        PropertyId.UserProperty => PropertyContext.All,
        PropertyId.MaximumPacketSize => PropertyContext.Connect | PropertyContext.ConnAck,
        PropertyId.WildcardSubscriptionAvailable => PropertyContext.ConnAck,
        PropertyId.SubscriptionIdentifierAvailable => PropertyContext.ConnAck,
        PropertyId.SharedSubscriptionAvailable => PropertyContext.ConnAck,
        _ => PropertyContext.None,
    };

    public static MqttProperties Read(ref MqttReader reader, PropertyContext context)
    {
        // MQTT 5.0 §2.2.2.1: Property Length as a Variable Byte Integer, checked against what remains.
        var length = reader.ReadVariableByteInteger();
        if (length > reader.Remaining)
            throw MqttReader.Malformed($"property length {length} exceeds the {reader.Remaining} bytes remaining");
        var block = new MqttReader(reader.ReadBytes(length));
        var properties = new MqttProperties();
        var seen = 0UL; // identifiers are below 64 once AllowedIn has rejected unknown ones
        while (!block.End)
        {
            var id = block.ReadVariableByteInteger();
            if ((AllowedIn(id) & context) == 0)
                throw MqttReader.Malformed($"property 0x{id:X2} is not valid in {context}");
            // MQTT 5.0 §2.2.2.2: including a property more than once is a Protocol Error, except
            // User Property and (in PUBLISH only) Subscription Identifier.
            var repeatable = id == PropertyId.UserProperty || (id == PropertyId.SubscriptionIdentifier && context == PropertyContext.Publish);
            var bit = 1UL << id;
            if ((seen & bit) != 0 && !repeatable)
                throw MqttReader.ProtocolError($"property 0x{id:X2} appears more than once");
            seen |= bit;
            properties.ReadValue(ref block, id);
        }
        return properties;
    }

    private void ReadValue(ref MqttReader r, int id)
    {
        switch (id)
        {
            case PropertyId.PayloadFormatIndicator: PayloadFormatIndicator = Boolean(r.ReadByte(), id); break;
            case PropertyId.MessageExpiryInterval: MessageExpiryInterval = r.ReadUInt32(); break;
            case PropertyId.ContentType: ContentType = r.ReadString(); break;
            case PropertyId.ResponseTopic:
                ResponseTopic = r.ReadString();
                // MQTT 5.0 §3.3.2.3.5: the Response Topic is a Topic Name.
                if (!MqttTopic.IsValidTopicName(ResponseTopic))
                    throw MqttReader.ProtocolError("Response Topic contains wildcards or is empty");
                break;
            case PropertyId.CorrelationData: CorrelationData = r.ReadBinary().ToArray(); break;
            case PropertyId.SubscriptionIdentifier:
                var sid = r.ReadVariableByteInteger();
                // MQTT 5.0 §3.8.2.1.2: a value of 0 is a Protocol Error.
                if (sid == 0)
                    throw MqttReader.ProtocolError("Subscription Identifier 0");
                SubscriptionIdentifiers.Add(sid);
                break;
            case PropertyId.SessionExpiryInterval: SessionExpiryInterval = r.ReadUInt32(); break;
            case PropertyId.AssignedClientIdentifier: AssignedClientIdentifier = r.ReadString(); break;
            case PropertyId.ServerKeepAlive: ServerKeepAlive = r.ReadUInt16(); break;
            case PropertyId.AuthenticationMethod: AuthenticationMethod = r.ReadString(); break;
            case PropertyId.AuthenticationData: AuthenticationData = r.ReadBinary().ToArray(); break;
            case PropertyId.RequestProblemInformation: RequestProblemInformation = Boolean(r.ReadByte(), id); break;
            case PropertyId.WillDelayInterval: WillDelayInterval = r.ReadUInt32(); break;
            case PropertyId.RequestResponseInformation: RequestResponseInformation = Boolean(r.ReadByte(), id); break;
            case PropertyId.ResponseInformation: ResponseInformation = r.ReadString(); break;
            case PropertyId.ServerReference: ServerReference = r.ReadString(); break;
            case PropertyId.ReasonString: ReasonString = r.ReadString(); break;
            case PropertyId.ReceiveMaximum:
                ReceiveMaximum = r.ReadUInt16();
                // MQTT 5.0 §3.1.2.11.3 / §3.2.2.3.3: zero is a Protocol Error.
                if (ReceiveMaximum == 0)
                    throw MqttReader.ProtocolError("Receive Maximum 0");
                break;
            case PropertyId.TopicAliasMaximum: TopicAliasMaximum = r.ReadUInt16(); break;
            case PropertyId.TopicAlias:
                TopicAlias = r.ReadUInt16();
                // MQTT 5.0 §3.3.2.3.4: Topic Alias 0 is not permitted.
                if (TopicAlias == 0)
                    throw new MqttProtocolException(MqttReasonCode.TopicAliasInvalid, "Protocol error: Topic Alias 0");
                break;
            case PropertyId.MaximumQoS: MaximumQoS = Boolean(r.ReadByte(), id); break; // §3.2.2.3.4: 0 or 1
            case PropertyId.RetainAvailable: RetainAvailable = Boolean(r.ReadByte(), id); break;
            case PropertyId.UserProperty:
                var name = r.ReadString();
                UserProperties.Add(new(name, r.ReadString()));
                break;
            case PropertyId.MaximumPacketSize:
                MaximumPacketSize = r.ReadUInt32();
                // MQTT 5.0 §3.1.2.11.4: zero is a Protocol Error.
                if (MaximumPacketSize == 0)
                    throw MqttReader.ProtocolError("Maximum Packet Size 0");
                break;
            case PropertyId.WildcardSubscriptionAvailable: WildcardSubscriptionAvailable = Boolean(r.ReadByte(), id); break;
            case PropertyId.SubscriptionIdentifierAvailable: SubscriptionIdentifierAvailable = Boolean(r.ReadByte(), id); break;
            case PropertyId.SharedSubscriptionAvailable: SharedSubscriptionAvailable = Boolean(r.ReadByte(), id); break;
            default: throw MqttReader.Malformed($"unknown property 0x{id:X2}");
        }
    }

    private static byte Boolean(byte value, int id) =>
        value <= 1 ? value : throw MqttReader.ProtocolError($"property 0x{id:X2} must be 0 or 1, was {value}");

    /// <summary>Writes Property Length followed by the properties in identifier order.</summary>
    public void Write(MqttWriter writer)
    {
        using var block = new MqttWriter();
        WriteByteProperty(block, PropertyId.PayloadFormatIndicator, PayloadFormatIndicator);
        WriteUInt32Property(block, PropertyId.MessageExpiryInterval, MessageExpiryInterval);
        WriteStringProperty(block, PropertyId.ContentType, ContentType);
        WriteStringProperty(block, PropertyId.ResponseTopic, ResponseTopic);
        WriteBinaryProperty(block, PropertyId.CorrelationData, CorrelationData);
        foreach (var sid in SubscriptionIdentifiers)
        {
            block.WriteVariableByteInteger(PropertyId.SubscriptionIdentifier);
            block.WriteVariableByteInteger(sid);
        }
        WriteUInt32Property(block, PropertyId.SessionExpiryInterval, SessionExpiryInterval);
        WriteStringProperty(block, PropertyId.AssignedClientIdentifier, AssignedClientIdentifier);
        WriteUInt16Property(block, PropertyId.ServerKeepAlive, ServerKeepAlive);
        WriteStringProperty(block, PropertyId.AuthenticationMethod, AuthenticationMethod);
        WriteBinaryProperty(block, PropertyId.AuthenticationData, AuthenticationData);
        WriteByteProperty(block, PropertyId.RequestProblemInformation, RequestProblemInformation);
        WriteUInt32Property(block, PropertyId.WillDelayInterval, WillDelayInterval);
        WriteByteProperty(block, PropertyId.RequestResponseInformation, RequestResponseInformation);
        WriteStringProperty(block, PropertyId.ResponseInformation, ResponseInformation);
        WriteStringProperty(block, PropertyId.ServerReference, ServerReference);
        WriteStringProperty(block, PropertyId.ReasonString, ReasonString);
        WriteUInt16Property(block, PropertyId.ReceiveMaximum, ReceiveMaximum);
        WriteUInt16Property(block, PropertyId.TopicAliasMaximum, TopicAliasMaximum);
        WriteUInt16Property(block, PropertyId.TopicAlias, TopicAlias);
        WriteByteProperty(block, PropertyId.MaximumQoS, MaximumQoS);
        WriteByteProperty(block, PropertyId.RetainAvailable, RetainAvailable);
        foreach (var (name, value) in UserProperties)
        {
            block.WriteVariableByteInteger(PropertyId.UserProperty);
            block.WriteString(name, "user property name");
            block.WriteString(value, "user property value");
        }
        WriteUInt32Property(block, PropertyId.MaximumPacketSize, MaximumPacketSize);
        WriteByteProperty(block, PropertyId.WildcardSubscriptionAvailable, WildcardSubscriptionAvailable);
        WriteByteProperty(block, PropertyId.SubscriptionIdentifierAvailable, SubscriptionIdentifierAvailable);
        WriteByteProperty(block, PropertyId.SharedSubscriptionAvailable, SharedSubscriptionAvailable);

        var body = block.Written.Span; // Complete() was not called, so this is the body alone
        writer.WriteVariableByteInteger(body.Length);
        writer.WriteBytes(body);
    }

    private static void WriteByteProperty(MqttWriter w, int id, byte? value)
    {
        if (value is null)
            return;
        w.WriteVariableByteInteger(id);
        w.WriteByte(value.Value);
    }

    private static void WriteUInt16Property(MqttWriter w, int id, ushort? value)
    {
        if (value is null)
            return;
        w.WriteVariableByteInteger(id);
        w.WriteUInt16(value.Value);
    }

    private static void WriteUInt32Property(MqttWriter w, int id, uint? value)
    {
        if (value is null)
            return;
        w.WriteVariableByteInteger(id);
        w.WriteUInt32(value.Value);
    }

    private static void WriteStringProperty(MqttWriter w, int id, string? value)
    {
        if (value is null)
            return;
        w.WriteVariableByteInteger(id);
        w.WriteString(value, $"property 0x{id:X2}");
    }

    private static void WriteBinaryProperty(MqttWriter w, int id, byte[]? value)
    {
        if (value is null)
            return;
        w.WriteVariableByteInteger(id);
        w.WriteBinary(value);
    }
}
