using Onboarding.Mqtt.Packets;

namespace Onboarding.Mqtt.Tests.Client;

/// <summary>
/// <see cref="MqttClientOptions.DedicatedReceiveThread"/>: the same protocol behaviour as the awaiting read loop, from a
/// thread doing blocking reads into its own buffer (malformed packets: ClientWithFakeBrokerTests, in both modes).
/// </summary>
public class DedicatedReceiveThreadTests
{
    private const MqttProtocolVersion V5 = MqttProtocolVersion.V500;

    private static async Task<MqttApplicationMessage> NextMessage(MqttClient client) =>
        await client.Messages.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

    private static PublishPacket Publish(ushort id, int size = 1) =>
        new() { Topic = "devices/d1/telemetry", Payload = Enumerable.Repeat((byte)id, size).ToArray(), QoS = MqttQualityOfService.AtLeastOnce, PacketId = id };

    [Fact]
    public async Task Packets_sent_with_the_connack_split_across_reads_or_larger_than_the_buffer_all_arrive_in_order()
    {
        await using var broker = new FakeBroker();
        await using var client = broker.Client(V5, dedicatedReceiveThread: true);
        var connect = client.ConnectAsync();
        await using var session = await broker.AcceptAsync(V5);
        Assert.IsType<ConnectPacket>(await session.ReadAsync());

        // A resumed session: the broker sends queued messages right behind CONNACK, so the handshake's reader holds them.
        await session.SendRawAsync([.. new ConnAckPacket { SessionPresent = true }.Encode(V5), .. Publish(1).Encode(V5), .. Publish(2).Encode(V5)]);
        await connect;
        // One packet in two writes, then one of 200 KB (the receive buffer starts at 64 KB).
        var third = Publish(3, 10).Encode(V5);
        await session.SendRawAsync(third[..7]);
        await Task.Delay(100);
        await session.SendRawAsync(third[7..]);
        await session.SendAsync(Publish(4, 200_000));

        var received = new List<MqttApplicationMessage>();
        for (var i = 0; i < 4; i++)
            received.Add(await NextMessage(client));

        Assert.Equal([1, 2, 3, 4], received.Select(m => (int)m.Payload.Span[0]));
        Assert.Equal([1, 1, 10, 200_000], received.Select(m => m.Payload.Length));
        client.Ack(received);
        for (ushort id = 1; id <= 4; id++)
            Assert.Equal(id, Assert.IsType<PubAckPacket>(await session.ReadAsync()).PacketId);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)] // the control: proves the check sees a registration
    public async Task A_dedicated_connection_never_enters_the_socket_engines_epoll_set(bool dedicatedReceiveThread)
    {
        // .NET adds a socket to its epoll set the first time an asynchronous operation on it has to wait; from then on
        // every segment that arrives wakes the engine's thread (and through it a pool thread), whoever reads it.
        await using var connected = await FakeBroker.ConnectedAsync(V5, dedicatedReceiveThread);
        var client = connected.Client;
        for (ushort id = 1; id <= 3; id++)
        {
            await Task.Delay(50); // the receive side waits for data between messages
            await connected.Session.SendAsync(Publish(id));
            client.Ack([await NextMessage(client)]);
            Assert.Equal(id, Assert.IsType<PubAckPacket>(await connected.Session.ReadAsync()).PacketId);
        }

        var fd = client.CurrentSocket!.Handle;
        Assert.Equal(!dedicatedReceiveThread, EpollSet.Registered().Contains(fd));
    }

    [Fact]
    public async Task A_connection_the_broker_drops_is_replaced_and_the_new_one_is_read_too()
    {
        await using var broker = new FakeBroker();
        await using var client = broker.Client(V5, dedicatedReceiveThread: true);
        var accept = broker.AcceptAndConnAckAsync(V5);
        await client.ConnectAsync();
        var (first, _) = await accept;
        await first.SendAsync(Publish(1));
        Assert.Equal(1, (await NextMessage(client)).PacketId);

        await first.DisposeAsync();
        var (second, _) = await broker.AcceptAndConnAckAsync(V5, new ConnAckPacket { SessionPresent = true });
        await using var s2 = second;
        await second.SendAsync(Publish(2));

        var message = await NextMessage(client);
        Assert.Equal(2, message.PacketId);
        client.Ack([message]);
        Assert.Equal(2, Assert.IsType<PubAckPacket>(await second.ReadAsync()).PacketId);
    }

    [Fact]
    public async Task Disposing_the_client_ends_the_receive_thread_promptly()
    {
        await using var connected = await FakeBroker.ConnectedAsync(V5, dedicatedReceiveThread: true);
        var (_, client, session) = connected;

        await client.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));

        Assert.IsType<DisconnectPacket>(await session.ReadAsync());
        Assert.True(await session.IsClosedByClientAsync(TimeSpan.FromSeconds(5)));
    }
}
