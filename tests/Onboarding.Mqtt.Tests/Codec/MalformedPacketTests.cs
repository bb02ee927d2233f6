using System.Buffers;
using Onboarding.Mqtt.Packets;

namespace Onboarding.Mqtt.Tests.Codec;

public class MalformedPacketTests
{
    private const MqttProtocolVersion V3 = MqttProtocolVersion.V311;
    private const MqttProtocolVersion V5 = MqttProtocolVersion.V500;

    private static void Rejected(string hex, MqttProtocolVersion version, byte reason) =>
        Assert.Equal(reason, Hex.DecodeError(Hex.Bytes(hex), version).ReasonCode);

    [Theory]
    [InlineData("")]
    [InlineData("30")]
    [InlineData("30 80")] // continuation bit, next byte missing
    [InlineData("30 07 00 03 61")] // body incomplete
    public void Truncated_frames_need_more(string hex)
    {
        var result = MqttFrameReader.Read(new ReadOnlySequence<byte>(Hex.Bytes(hex)), V5, 1 << 20);
        Assert.Equal(FrameStatus.NeedMore, result.Status);
        Assert.Equal(0, result.Consumed);
    }

    [Theory]
    [InlineData("10 04 00 09 4D 51")] // string length 9 inside a 4-byte body
    [InlineData("30 02 00 05")] // topic longer than the body
    [InlineData("32 04 00 01 61 00")] // QoS 1 packet identifier cut short
    [InlineData("20 01 00")] // CONNACK without return code
    [InlineData("40 01 00")] // PUBACK with a 1-byte packet identifier
    public void Lengths_inside_the_body_are_checked(string hex) => Rejected(hex, V3, MqttReasonCode.MalformedPacket);

    [Theory]
    [InlineData("41 02 00 0A")] // PUBACK flags must be 0000
    [InlineData("60 02 00 0A")] // PUBREL flags must be 0010
    [InlineData("80 08 00 01 00 03 61 2F 23 01")] // SUBSCRIBE flags must be 0010
    [InlineData("A0 05 00 02 00 01 61")] // UNSUBSCRIBE flags must be 0010
    [InlineData("C1 00")] // PINGREQ
    [InlineData("36 07 00 03 61 2F 62 00 01")] // PUBLISH QoS 3
    [InlineData("38 05 00 03 61 2F 62")] // DUP on QoS 0
    [InlineData("00 00")] // reserved packet type 0
    public void Fixed_header_flags_are_checked(string hex) => Rejected(hex, V3, MqttReasonCode.MalformedPacket);

    [Theory]
    [InlineData("30 FF FF FF FF 01")] // fifth length byte
    [InlineData("30 80 00")] // non-minimal encoding of 0 (MQTT 5.0 §1.5.5)
    public void Invalid_variable_byte_integer_is_malformed(string hex) => Rejected(hex, V5, MqttReasonCode.MalformedPacket);

    [Theory]
    [InlineData("30 05 00 03 61 00 62")] // U+0000
    [InlineData("30 05 00 03 ED A0 80")] // UTF-16 surrogate U+D800 encoded as UTF-8
    [InlineData("30 04 00 02 C0 80")] // overlong NUL
    [InlineData("30 04 00 02 C3 28")] // broken continuation
    [InlineData("30 04 00 02 F4 90")] // truncated, above U+10FFFF
    public void Invalid_utf8_is_malformed(string hex) => Rejected(hex, V3, MqttReasonCode.MalformedPacket);

    [Fact]
    public void Duplicate_property_is_a_protocol_error() =>
        // PUBLISH with Content Type twice.
        Rejected("30 0E 00 01 74 08 03 00 01 61 03 00 01 62 68 69", V5, MqttReasonCode.ProtocolError);

    [Fact]
    public void Duplicate_receive_maximum_in_connack_is_a_protocol_error() =>
        Rejected("20 09 00 00 06 21 00 0A 21 00 0B", V5, MqttReasonCode.ProtocolError);

    [Fact]
    public void User_property_may_repeat() =>
        Assert.Equal(2, ((PubAckPacket)Hex.Decode(Hex.Bytes("40 12 00 01 00 0E 26 00 01 6B 00 01 76 26 00 01 6B 00 01 77"), V5)).Properties.UserProperties.Count);

    [Fact]
    public void Subscription_identifier_may_not_repeat_in_subscribe() =>
        Rejected("82 0B 00 01 04 0B 01 0B 02 00 01 61 01", V5, MqttReasonCode.ProtocolError);

    [Fact]
    public void Property_not_allowed_in_packet_is_malformed() =>
        // Session Expiry Interval (0x11) inside PUBLISH.
        Rejected("30 09 00 01 74 05 11 00 00 00 01", V5, MqttReasonCode.MalformedPacket);

    [Fact]
    public void Unknown_property_is_malformed() => Rejected("30 06 00 01 74 02 7F 00", V5, MqttReasonCode.MalformedPacket);

    [Fact]
    public void Property_length_beyond_body_is_malformed() => Rejected("30 05 00 01 74 09 01", V5, MqttReasonCode.MalformedPacket);

    [Fact]
    public void Property_value_of_wrong_size_is_malformed() =>
        // Message Expiry Interval needs four bytes; only two remain in the property block.
        Rejected("30 07 00 01 74 03 02 00 01", V5, MqttReasonCode.MalformedPacket);

    [Theory]
    [InlineData("20 06 00 00 03 21 00 00")] // Receive Maximum 0
    [InlineData("20 08 00 00 05 27 00 00 00 00")] // Maximum Packet Size 0
    [InlineData("20 05 00 00 02 24 02")] // Maximum QoS 2
    [InlineData("30 06 00 01 74 02 01 02")] // Payload Format Indicator 2
    public void Property_values_out_of_range_are_protocol_errors(string hex) => Rejected(hex, V5, MqttReasonCode.ProtocolError);

    [Fact]
    public void Packet_larger_than_maximum_is_refused_before_the_body_arrives()
    {
        // Only the fixed header of a 1000-byte PUBLISH is present.
        var result = MqttFrameReader.Read(new ReadOnlySequence<byte>(Hex.Bytes("30 E5 07")), V5, 100);
        Assert.Equal(FrameStatus.Error, result.Status);
        Assert.Equal(MqttReasonCode.PacketTooLarge, result.Error!.ReasonCode);
    }

    [Fact]
    public void Packet_of_exactly_maximum_size_is_accepted() =>
        Assert.IsType<PublishPacket>(Hex.Decode(Hex.Bytes("30 07 00 03 61 2F 62 68 69"), V3, 9));

    [Fact]
    public void Auth_does_not_exist_in_311() => Rejected("F0 00", V3, MqttReasonCode.MalformedPacket);

    [Theory]
    [InlineData("20 02 02 00", MqttReasonCode.MalformedPacket)] // CONNACK reserved flag bit
    [InlineData("20 02 01 05", MqttReasonCode.ProtocolError)] // session present on a refused connection
    [InlineData("20 02 00 06", MqttReasonCode.ProtocolError)] // reserved return code
    [InlineData("20 03 00 00 00", MqttReasonCode.MalformedPacket)] // 5.0-style CONNACK on 3.1.1
    [InlineData("40 02 00 00", MqttReasonCode.ProtocolError)] // packet identifier 0
    [InlineData("B0 03 00 01 00", MqttReasonCode.MalformedPacket)] // 3.1.1 UNSUBACK has no payload
    [InlineData("E0 01 00", MqttReasonCode.MalformedPacket)] // 3.1.1 DISCONNECT has no body
    [InlineData("90 02 00 01", MqttReasonCode.ProtocolError)] // SUBACK without codes
    [InlineData("90 03 00 01 03", MqttReasonCode.MalformedPacket)] // SUBACK code 3
    [InlineData("82 02 00 01", MqttReasonCode.ProtocolError)] // SUBSCRIBE without filters
    [InlineData("82 06 00 01 00 01 61 04", MqttReasonCode.MalformedPacket)] // 3.1.1 reserved option bits
    [InlineData("82 06 00 01 00 01 61 03", MqttReasonCode.MalformedPacket)] // subscription QoS 3
    [InlineData("82 08 00 01 00 03 61 23 62 01", MqttReasonCode.TopicFilterInvalid)] // 'a#b'
    [InlineData("30 05 00 03 61 2F 2B", MqttReasonCode.TopicNameInvalid)] // wildcard in topic name
    [InlineData("10 0D 00 04 4D 51 54 54 04 03 00 3C 00 01 61", MqttReasonCode.MalformedPacket)] // CONNECT reserved flag
    [InlineData("10 0D 00 04 4D 51 54 54 04 12 00 3C 00 01 61", MqttReasonCode.MalformedPacket)] // Will QoS without Will flag
    [InlineData("10 0D 00 04 4D 51 54 54 03 02 00 3C 00 01 61", MqttReasonCode.UnsupportedProtocolVersion)]
    [InlineData("10 0F 00 04 4D 51 54 54 04 42 00 3C 00 01 61 00 00", MqttReasonCode.MalformedPacket)] // password without user (3.1.1)
    public void Packet_rules_311(string hex, byte reason) => Rejected(hex, V3, reason);

    [Theory]
    [InlineData("30 04 00 00 00 61", MqttReasonCode.ProtocolError)] // empty topic without alias
    [InlineData("30 08 00 01 74 03 23 00 00 61", MqttReasonCode.TopicAliasInvalid)] // Topic Alias 0
    [InlineData("30 07 00 01 74 02 01 01 FF", MqttReasonCode.PayloadFormatInvalid)] // UTF-8 payload indicator, invalid payload
    [InlineData("82 0F 00 01 00 00 09 24 73 68 61 72 65 2F 2F 61 01", MqttReasonCode.TopicFilterInvalid)] // "$share//a": empty share name
    [InlineData("40 03 00 01 05", MqttReasonCode.ProtocolError)] // PUBACK reason 0x05 undefined
    [InlineData("82 07 00 01 00 00 01 61 30", MqttReasonCode.ProtocolError)] // Retain Handling 3
    [InlineData("82 07 00 01 00 00 01 61 C0", MqttReasonCode.MalformedPacket)] // reserved bits 6-7
    [InlineData("B0 03 00 01 00", MqttReasonCode.ProtocolError)] // UNSUBACK without reason codes (MQTT 5.0 §3.11.3)
    [InlineData("B0 04 00 01 00 01", MqttReasonCode.MalformedPacket)] // UNSUBACK reason 0x01 (a SUBACK code) is not allowed
    [InlineData("B0 05 00 01 00 00 97", MqttReasonCode.MalformedPacket)] // UNSUBACK reason 0x97 (quota) is not allowed
    [InlineData("B0 05 00 01 02 26 00", MqttReasonCode.MalformedPacket)] // UNSUBACK property block cut short
    [InlineData("B0 05 00 00 00 00 00", MqttReasonCode.ProtocolError)] // UNSUBACK packet identifier 0
    [InlineData("E0 01 01", MqttReasonCode.ProtocolError)] // undefined DISCONNECT reason
    [InlineData("F0 01 05", MqttReasonCode.ProtocolError)] // undefined AUTH reason
    public void Packet_rules_5(string hex, byte reason) => Rejected(hex, V5, reason);

    [Theory]
    [InlineData("$share/g/a/#")]
    [InlineData("$share/group/+")]
    public void Shared_subscription_with_no_local_is_a_protocol_error(string filter)
    {
        var packet = new SubscribePacket { PacketId = 1, Subscriptions = [new TopicSubscription(filter, MqttQualityOfService.AtLeastOnce)] };
        var bytes = packet.Encode(V5);
        bytes[^1] |= 0x04; // set No Local
        Rejected(Hex.Of(bytes), V5, MqttReasonCode.ProtocolError);
    }
}
