using System.Buffers;
using Onboarding.Mqtt.Packets;

namespace Onboarding.Mqtt.Tests.Codec;

/// <summary>Parsers are total: any input yields need-more, a packet, or a typed protocol error — nothing else.</summary>
public class TotalityTests
{
    private static readonly MqttPacket[] Seeds =
    [
        new ConnectPacket { ClientId = "c", UserName = "u", Password = [1], Will = new WillMessage { Topic = "w", Properties = new MqttProperties { ContentType = "x" } },
            Properties = new MqttProperties { ReceiveMaximum = 5, UserProperties = { new("k", "v") } } },
        new ConnAckPacket { SessionPresent = true, Properties = new MqttProperties { MaximumQoS = 1, AssignedClientIdentifier = "id" } },
        new PublishPacket { Topic = "a/b", Payload = new byte[20], QoS = MqttQualityOfService.ExactlyOnce, PacketId = 3, Properties = new MqttProperties { SubscriptionIdentifiers = { 7 } } },
        new PubAckPacket { PacketId = 1, ReasonCode = 0x10, Properties = new MqttProperties { ReasonString = "r" } },
        new PubRelPacket { PacketId = 1 },
        new SubscribePacket { PacketId = 2, Subscriptions = [new TopicSubscription("$share/g/#", MqttQualityOfService.AtLeastOnce)] },
        new SubAckPacket { PacketId = 2, ReasonCodes = [0, 1, 0x80] },
        new UnsubscribePacket { PacketId = 4, Filters = ["a/+", "b"] },
        new UnsubAckPacket { PacketId = 4, ReasonCodes = [0] },
        new DisconnectPacket { ReasonCode = 0x8E, Properties = new MqttProperties { SessionExpiryInterval = 1 } },
        new AuthPacket { ReasonCode = 0x18, Properties = new MqttProperties { AuthenticationMethod = "m", AuthenticationData = [1, 2] } },
    ];

    [Theory]
    [InlineData(MqttProtocolVersion.V311)]
    [InlineData(MqttProtocolVersion.V500)]
    public void Mutated_packets_never_escape_as_untyped_exceptions(MqttProtocolVersion version)
    {
        var random = new Random(1234);
        var outcomes = new int[3];
        foreach (var seed in Seeds)
        {
            byte[] original;
            try
            {
                original = seed.Encode(version);
            }
            catch (InvalidOperationException)
            {
                continue; // AUTH has no 3.1.1 encoding
            }
            for (var i = 0; i < 3000; i++)
            {
                var bytes = (byte[])original.Clone();
                var mutations = random.Next(1, 4);
                for (var m = 0; m < mutations; m++)
                    bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                var length = random.Next(4) == 0 ? random.Next(bytes.Length + 1) : bytes.Length;
                var result = MqttFrameReader.Read(new ReadOnlySequence<byte>(bytes, 0, length), version, 4096);
                outcomes[(int)result.Status]++;
                if (result.Status == FrameStatus.Packet)
                    Assert.InRange(result.Consumed, 2, length);
            }
        }
        // Every outcome occurs, so the mutations reach deep into the parsers.
        Assert.All(outcomes, count => Assert.True(count > 100));
    }

    [Fact]
    public void Random_bytes_never_escape_as_untyped_exceptions()
    {
        var random = new Random(99);
        for (var i = 0; i < 50_000; i++)
        {
            var bytes = new byte[random.Next(0, 40)];
            random.NextBytes(bytes);
            MqttFrameReader.Read(new ReadOnlySequence<byte>(bytes), i % 2 == 0 ? MqttProtocolVersion.V500 : MqttProtocolVersion.V311, 1 << 20);
        }
    }
}
