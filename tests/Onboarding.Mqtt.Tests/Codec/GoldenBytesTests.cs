using System.Text;
using Onboarding.Mqtt.Packets;

namespace Onboarding.Mqtt.Tests.Codec;

/// <summary>Golden bytes derived by hand from the MQTT 3.1.1 and 5.0 specifications.</summary>
public class GoldenBytesTests
{
    private const MqttProtocolVersion V3 = MqttProtocolVersion.V311;
    private const MqttProtocolVersion V5 = MqttProtocolVersion.V500;

    private static void Golden(MqttPacket packet, MqttProtocolVersion version, string hex)
    {
        var expected = Hex.Bytes(hex);
        Assert.Equal(Hex.Of(expected), Hex.Of(packet.Encode(version)));
        var decoded = Hex.Decode(expected, version);
        Assert.Equal(packet.GetType(), decoded.GetType());
        // Re-encoding the decoded packet must give the same bytes: decode and encode agree.
        Assert.Equal(Hex.Of(expected), Hex.Of(decoded.Encode(version)));
    }

    [Fact]
    public void Connect_311_minimal() =>
        // §3.1: "MQTT", level 4, flags CleanSession, keep alive 60, client id "a".
        Golden(new ConnectPacket { ProtocolVersion = V3, ClientId = "a", KeepAliveSeconds = 60 }, V3,
            "10 0D 00 04 4D 51 54 54 04 02 00 3C 00 01 61");

    [Fact]
    public void Connect_311_with_will_and_credentials()
    {
        var packet = new ConnectPacket
        {
            ProtocolVersion = V3,
            ClientId = "a",
            CleanStart = false,
            UserName = "u",
            Password = "p"u8.ToArray(),
            Will = new WillMessage { Topic = "w", Payload = "x"u8.ToArray(), QoS = MqttQualityOfService.AtLeastOnce, Retain = true },
        };
        // flags: user 0x80 | password 0x40 | will retain 0x20 | will QoS1 0x08 | will 0x04 = 0xEC.
        Golden(packet, V3, "10 19 00 04 4D 51 54 54 04 EC 00 00 00 01 61 00 01 77 00 01 78 00 01 75 00 01 70");
        var decoded = (ConnectPacket)Hex.Decode(packet.Encode(V3), V3);
        Assert.Equal("u", decoded.UserName);
        Assert.Equal("w", decoded.Will!.Topic);
        Assert.True(decoded.Will.Retain);
        Assert.False(decoded.CleanStart);
    }

    [Fact]
    public void Connect_5_with_properties()
    {
        var packet = new ConnectPacket
        {
            ProtocolVersion = V5,
            ClientId = "a",
            KeepAliveSeconds = 30,
            UserName = "u",
            Password = "p"u8.ToArray(),
            Properties = new MqttProperties { SessionExpiryInterval = 3600, ReceiveMaximum = 100 },
        };
        // properties: 11 00000E10 (session expiry 3600), 21 0064 (receive maximum 100) → length 8.
        Golden(packet, V5, "10 1C 00 04 4D 51 54 54 05 C2 00 1E 08 11 00 00 0E 10 21 00 64 00 01 61 00 01 75 00 01 70");
    }

    [Fact]
    public void Connect_5_with_will_properties()
    {
        var packet = new ConnectPacket
        {
            ProtocolVersion = V5,
            ClientId = "",
            Will = new WillMessage { Topic = "w", Payload = "x"u8.ToArray(), Properties = new MqttProperties { WillDelayInterval = 5 } },
        };
        // flags will 0x04 | clean 0x02; properties empty (00); client id ""; will props 18 00000005 (len 5).
        Golden(packet, V5, "10 19 00 04 4D 51 54 54 05 06 00 00 00 00 00 05 18 00 00 00 05 00 01 77 00 01 78");
    }

    [Fact]
    public void ConnAck_311() => Golden(new ConnAckPacket { SessionPresent = true }, V3, "20 02 01 00");

    [Fact]
    public void ConnAck_311_refused_maps_to_v5_reason()
    {
        var packet = (ConnAckPacket)Hex.Decode(Hex.Bytes("20 02 00 04"), V3);
        Assert.Equal(MqttReasonCode.BadUserNameOrPassword, packet.ReasonCodeFor(V3));
        Assert.Equal(MqttReasonCode.NotAuthorized, ((ConnAckPacket)Hex.Decode(Hex.Bytes("20 02 00 05"), V3)).ReasonCodeFor(V3));
    }

    [Fact]
    public void ConnAck_5_minimal() => Golden(new ConnAckPacket(), V5, "20 03 00 00 00");

    [Fact]
    public void ConnAck_5_with_properties() =>
        Golden(new ConnAckPacket { Properties = new MqttProperties { ReceiveMaximum = 10, MaximumQoS = 1, AssignedClientIdentifier = "id" } }, V5,
            // 12 0002 "id" | 21 000A | 24 01 → 5 + 3 + 2 = 10
            "20 0D 00 00 0A 12 00 02 69 64 21 00 0A 24 01");

    [Fact]
    public void ConnAck_5_refused() => Golden(new ConnAckPacket { ReasonCode = MqttReasonCode.BadUserNameOrPassword }, V5, "20 03 00 86 00");

    [Fact]
    public void Publish_311_qos0() =>
        Golden(new PublishPacket { Topic = "a/b", Payload = "hi"u8.ToArray() }, V3, "30 07 00 03 61 2F 62 68 69");

    [Fact]
    public void Publish_311_qos1_dup_retain() =>
        Golden(new PublishPacket { Topic = "a/b", Payload = "hi"u8.ToArray(), QoS = MqttQualityOfService.AtLeastOnce, Duplicate = true, Retain = true, PacketId = 10 }, V3,
            "3B 09 00 03 61 2F 62 00 0A 68 69");

    [Fact]
    public void Publish_5_qos0_has_empty_property_length() =>
        Golden(new PublishPacket { Topic = "a/b", Payload = "hi"u8.ToArray() }, V5, "30 08 00 03 61 2F 62 00 68 69");

    [Fact]
    public void Publish_5_qos2_with_content_type() =>
        Golden(new PublishPacket
        {
            Topic = "a/b",
            Payload = "hi"u8.ToArray(),
            QoS = MqttQualityOfService.ExactlyOnce,
            PacketId = 1,
            Properties = new MqttProperties { ContentType = "t" },
        }, V5, "34 0E 00 03 61 2F 62 00 01 04 03 00 01 74 68 69");

    [Fact]
    public void Publish_5_with_multiple_subscription_identifiers() =>
        Golden(new PublishPacket { Topic = "t", Properties = new MqttProperties { SubscriptionIdentifiers = { 1, 200 } } }, V5,
            // 0B 01 | 0B C8 01 (200 as VBI) → length 5
            "30 09 00 01 74 05 0B 01 0B C8 01");

    [Theory]
    [InlineData(V3, "40 02 00 0A")]
    [InlineData(V5, "40 02 00 0A")]
    public void PubAck_success(MqttProtocolVersion version, string hex) => Golden(new PubAckPacket { PacketId = 10 }, version, hex);

    [Fact]
    public void PubAck_5_with_reason() => Golden(new PubAckPacket { PacketId = 10, ReasonCode = 0x10 }, V5, "40 03 00 0A 10");

    [Fact]
    public void PubAck_5_with_reason_string() =>
        Golden(new PubAckPacket { PacketId = 10, ReasonCode = 0x10, Properties = new MqttProperties { ReasonString = "r" } }, V5,
            "40 08 00 0A 10 04 1F 00 01 72");

    [Fact]
    public void PubAck_5_short_form_with_reason_only_decodes() =>
        Assert.Equal(0x10, ((PubAckPacket)Hex.Decode(Hex.Bytes("40 03 00 0A 10"), V5)).ReasonCode);

    [Theory]
    [InlineData(V3)]
    [InlineData(V5)]
    public void PubRec_PubRel_PubComp(MqttProtocolVersion version)
    {
        Golden(new PubRecPacket { PacketId = 10 }, version, "50 02 00 0A");
        Golden(new PubRelPacket { PacketId = 10 }, version, "62 02 00 0A");
        Golden(new PubCompPacket { PacketId = 10 }, version, "70 02 00 0A");
    }

    [Fact]
    public void PubRel_5_packet_identifier_not_found() =>
        Golden(new PubRelPacket { PacketId = 10, ReasonCode = MqttReasonCode.PacketIdentifierNotFound }, V5, "62 03 00 0A 92");

    [Fact]
    public void PubRec_5_with_user_property() =>
        Golden(new PubRecPacket { PacketId = 1, ReasonCode = 0x80, Properties = new MqttProperties { UserProperties = { new("k", "v") } } }, V5,
            // 26 0001 'k' 0001 'v' → 7
            "50 0B 00 01 80 07 26 00 01 6B 00 01 76");

    [Fact]
    public void Subscribe_311() =>
        Golden(new SubscribePacket { PacketId = 1, Subscriptions = [new TopicSubscription("a/#", MqttQualityOfService.AtLeastOnce)] }, V3,
            "82 08 00 01 00 03 61 2F 23 01");

    [Fact]
    public void Subscribe_5_with_options_and_identifier() =>
        Golden(new SubscribePacket
        {
            PacketId = 1,
            Subscriptions = [new TopicSubscription("a/+", MqttQualityOfService.ExactlyOnce, RetainAsPublished: true, RetainHandling: 1)],
            Properties = new MqttProperties { SubscriptionIdentifiers = { 5 } },
        }, V5, "82 0B 00 01 02 0B 05 00 03 61 2F 2B 1A");

    [Fact]
    public void Subscribe_5_shared() =>
        Golden(new SubscribePacket { PacketId = 2, Subscriptions = [new TopicSubscription("$share/g/t", MqttQualityOfService.AtLeastOnce)] }, V5,
            "82 10 00 02 00 00 0A 24 73 68 61 72 65 2F 67 2F 74 01");

    [Fact]
    public void SubAck_311() => Golden(new SubAckPacket { PacketId = 1, ReasonCodes = [0x01, 0x80] }, V3, "90 04 00 01 01 80");

    [Fact]
    public void SubAck_5() => Golden(new SubAckPacket { PacketId = 1, ReasonCodes = [0x02, 0x8F] }, V5, "90 05 00 01 00 02 8F");

    [Fact]
    public void Unsubscribe_311() => Golden(new UnsubscribePacket { PacketId = 2, Filters = ["a"] }, V3, "A2 05 00 02 00 01 61");

    [Fact]
    public void Unsubscribe_5() => Golden(new UnsubscribePacket { PacketId = 2, Filters = ["a"] }, V5, "A2 06 00 02 00 00 01 61");

    [Fact]
    public void UnsubAck_311() => Golden(new UnsubAckPacket { PacketId = 2 }, V3, "B0 02 00 02");

    [Fact]
    public void UnsubAck_5() => Golden(new UnsubAckPacket { PacketId = 2, ReasonCodes = [0x11] }, V5, "B0 04 00 02 00 11");

    [Fact]
    public void Unsubscribe_5_two_filters() =>
        // MQTT 5.0 §3.10: fixed header 0xA2, packet identifier, property length 0, then each filter as a UTF-8 string.
        Golden(new UnsubscribePacket { PacketId = 0x1234, Filters = ["$share/g/a/+", "a/+"] }, V5,
            "A2 16 12 34 00 00 0C 24 73 68 61 72 65 2F 67 2F 61 2F 2B 00 03 61 2F 2B");

    [Fact]
    public void UnsubAck_5_one_code_per_filter_with_reason_string() =>
        // MQTT 5.0 §3.11: packet identifier, properties (Reason String 0x1F "no"), then 0x00 Success and 0x87 Not authorized.
        Golden(new UnsubAckPacket { PacketId = 7, ReasonCodes = [0x00, 0x87], Properties = new MqttProperties { ReasonString = "no" } }, V5,
            "B0 0A 00 07 05 1F 00 02 6E 6F 00 87");

    [Theory]
    [InlineData(V3)]
    [InlineData(V5)]
    public void Ping(MqttProtocolVersion version)
    {
        Golden(PingReqPacket.Instance, version, "C0 00");
        Golden(PingRespPacket.Instance, version, "D0 00");
    }

    [Theory]
    [InlineData(V3)]
    [InlineData(V5)]
    public void Disconnect_normal(MqttProtocolVersion version) => Golden(new DisconnectPacket(), version, "E0 00");

    [Fact]
    public void Disconnect_5_with_will_and_session_expiry()
    {
        Golden(new DisconnectPacket { ReasonCode = MqttReasonCode.DisconnectWithWillMessage }, V5, "E0 01 04");
        Golden(new DisconnectPacket { Properties = new MqttProperties { SessionExpiryInterval = 0 } }, V5, "E0 07 00 05 11 00 00 00 00");
    }

    [Fact]
    public void Auth_5()
    {
        Golden(new AuthPacket(), V5, "F0 00");
        Golden(new AuthPacket { ReasonCode = MqttReasonCode.ContinueAuthentication, Properties = new MqttProperties { AuthenticationMethod = "m" } }, V5,
            "F0 06 18 04 15 00 01 6D");
    }

    [Fact]
    public void Large_remaining_length_uses_multi_byte_vbi()
    {
        var payload = new byte[200];
        var bytes = new PublishPacket { Topic = "t", Payload = payload }.Encode(V3);
        // remaining length 203 = 0xCB 0x01 (§2.2.3 example: 128..16383 take two bytes).
        Assert.Equal("30CB01", Hex.Of(bytes.AsSpan(0, 3)));
        Assert.Equal(206, bytes.Length);
    }

    [Fact]
    public void Utf8_topic_round_trips()
    {
        var packet = (PublishPacket)Hex.Decode(new PublishPacket { Topic = "Ä/𝄞", Payload = Encoding.UTF8.GetBytes("ü") }.Encode(V5), V5);
        Assert.Equal("Ä/𝄞", packet.Topic);
    }
}
