using System.Buffers;
using Onboarding.Mqtt.Packets;

namespace Onboarding.Mqtt.Tests.Codec;

public class FrameAndTopicTests
{
    [Fact]
    public void Frames_are_split_from_a_fragmented_stream()
    {
        var first = new PublishPacket { Topic = "a", Payload = new byte[300], QoS = MqttQualityOfService.AtLeastOnce, PacketId = 7 }.Encode(MqttProtocolVersion.V500);
        var second = PingRespPacket.Instance.Encode(MqttProtocolVersion.V500);
        var sequence = Hex.Fragmented([.. first, .. second]);

        var r1 = MqttFrameReader.Read(sequence, MqttProtocolVersion.V500, 1 << 20);
        Assert.Equal(FrameStatus.Packet, r1.Status);
        Assert.Equal(first.Length, r1.Consumed);
        var publish = Assert.IsType<PublishPacket>(r1.Packet);
        Assert.Equal(300, publish.Payload.Length);
        Assert.Equal(7, publish.PacketId);

        var r2 = MqttFrameReader.Read(sequence.Slice(r1.Consumed), MqttProtocolVersion.V500, 1 << 20);
        Assert.IsType<PingRespPacket>(r2.Packet);
        Assert.Equal(FrameStatus.NeedMore, MqttFrameReader.Read(sequence.Slice(r1.Consumed + r2.Consumed), MqttProtocolVersion.V500, 1 << 20).Status);
    }

    [Fact]
    public void Every_prefix_of_a_packet_needs_more()
    {
        var bytes = new PublishPacket { Topic = "a/b", Payload = new byte[200] }.Encode(MqttProtocolVersion.V311);
        for (var i = 0; i < bytes.Length; i++)
            Assert.Equal(FrameStatus.NeedMore, MqttFrameReader.Read(new ReadOnlySequence<byte>(bytes, 0, i), MqttProtocolVersion.V311, 1 << 20).Status);
    }

    [Fact]
    public void All_properties_round_trip()
    {
        var connack = new ConnAckPacket
        {
            Properties = new MqttProperties
            {
                SessionExpiryInterval = 1, AssignedClientIdentifier = "c", ServerKeepAlive = 2, AuthenticationMethod = "m",
                AuthenticationData = [1, 2], ResponseInformation = "ri", ServerReference = "sr", ReasonString = "rs",
                ReceiveMaximum = 3, TopicAliasMaximum = 4, MaximumQoS = 1, RetainAvailable = 0, MaximumPacketSize = 5,
                WildcardSubscriptionAvailable = 1, SubscriptionIdentifierAvailable = 0, SharedSubscriptionAvailable = 1,
                UserProperties = { new("a", "b"), new("a", "c") },
            },
        };
        var bytes = connack.Encode(MqttProtocolVersion.V500);
        var decoded = (ConnAckPacket)Hex.Decode(bytes, MqttProtocolVersion.V500);
        Assert.Equal(Hex.Of(bytes), Hex.Of(decoded.Encode(MqttProtocolVersion.V500)));
        Assert.Equal((ushort)3, decoded.Properties.ReceiveMaximum);
        Assert.Equal(5u, decoded.Properties.MaximumPacketSize);

        var publish = new PublishPacket
        {
            Topic = "t", QoS = MqttQualityOfService.AtLeastOnce, PacketId = 9, Payload = "x"u8.ToArray(),
            Properties = new MqttProperties
            {
                PayloadFormatIndicator = 1, MessageExpiryInterval = 60, ContentType = "text/plain", ResponseTopic = "r/t",
                CorrelationData = [9], TopicAlias = 3, SubscriptionIdentifiers = { 268_435_455 },
            },
        };
        bytes = publish.Encode(MqttProtocolVersion.V500);
        Assert.Equal(Hex.Of(bytes), Hex.Of(Hex.Decode(bytes, MqttProtocolVersion.V500).Encode(MqttProtocolVersion.V500)));

        var connect = new ConnectPacket
        {
            ClientId = "id",
            Properties = new MqttProperties
            {
                SessionExpiryInterval = 10, ReceiveMaximum = 1, MaximumPacketSize = 1000, TopicAliasMaximum = 0,
                RequestResponseInformation = 1, RequestProblemInformation = 0, AuthenticationMethod = "SCRAM", AuthenticationData = [0],
            },
            Will = new WillMessage
            {
                Topic = "w",
                Properties = new MqttProperties { WillDelayInterval = 1, PayloadFormatIndicator = 0, MessageExpiryInterval = 2, ContentType = "c", ResponseTopic = "r", CorrelationData = [] },
            },
        };
        bytes = connect.Encode(MqttProtocolVersion.V500);
        Assert.Equal(Hex.Of(bytes), Hex.Of(Hex.Decode(bytes, MqttProtocolVersion.V500).Encode(MqttProtocolVersion.V500)));
    }

    [Theory]
    [InlineData(0, "00")]
    [InlineData(127, "7F")]
    [InlineData(128, "8001")]
    [InlineData(16_383, "FF7F")]
    [InlineData(16_384, "808001")]
    [InlineData(2_097_151, "FFFF7F")]
    [InlineData(2_097_152, "80808001")]
    [InlineData(268_435_455, "FFFFFF7F")]
    public void Variable_byte_integer_matches_spec_table(int value, string hex)
    {
        // MQTT 5.0 §1.5.5 table 1-1.
        Span<byte> buffer = stackalloc byte[4];
        var size = VariableByteInteger.Write(buffer, value);
        Assert.Equal(hex, Hex.Of(buffer[..size]));
        Assert.Equal(VariableByteInteger.Status.Ok, VariableByteInteger.TryRead(buffer[..size], out var decoded, out var consumed));
        Assert.Equal(value, decoded);
        Assert.Equal(size, consumed);
    }

    [Fact]
    public void Variable_byte_integer_above_maximum_cannot_be_written() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => VariableByteInteger.SizeOf(268_435_456));

    [Theory]
    [InlineData("a", true)]
    [InlineData("a/b/c", true)]
    [InlineData("/", true)]
    [InlineData("$SYS/x", true)]
    [InlineData("", false)]
    [InlineData("a/+", false)]
    [InlineData("a/#", false)]
    public void Topic_names(string topic, bool valid) => Assert.Equal(valid, MqttTopic.IsValidTopicName(topic));

    [Theory]
    [InlineData("#", true)]
    [InlineData("+", true)]
    [InlineData("a/#", true)]
    [InlineData("+/+/#", true)]
    [InlineData("a//b", true)]
    [InlineData("$share/g/a/#", true)]
    [InlineData("$share/g/+", true)]
    [InlineData("", false)]
    [InlineData("a#", false)]
    [InlineData("a/#/b", false)]
    [InlineData("a+", false)]
    [InlineData("a/+b", false)]
    [InlineData("$share/g", false)]
    [InlineData("$share//a", false)]
    [InlineData("$share/g+/a", false)]
    [InlineData("$share/g/", false)]
    [InlineData("$share/g/a#", false)]
    public void Topic_filters(string filter, bool valid) => Assert.Equal(valid, MqttTopic.IsValidTopicFilter(filter));

    [Fact]
    public void Invalid_strings_are_refused_when_writing()
    {
        // Built in code: attribute data would replace a lone surrogate with U+FFFD.
        foreach (var topic in new[] { "a\0b", new string('\ud800', 1), "x" + new string('\udc00', 1) })
            Assert.Throws<ArgumentException>(() => new PublishPacket { Topic = topic }.Encode(MqttProtocolVersion.V500));
    }
}
