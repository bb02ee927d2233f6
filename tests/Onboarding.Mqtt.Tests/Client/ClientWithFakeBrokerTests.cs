using Onboarding.Mqtt.Packets;

namespace Onboarding.Mqtt.Tests.Client;

public class ClientWithFakeBrokerTests
{
    private const MqttProtocolVersion V3 = MqttProtocolVersion.V311;
    private const MqttProtocolVersion V5 = MqttProtocolVersion.V500;

    private static async Task<MqttApplicationMessage> NextMessage(MqttClient client) =>
        await client.Messages.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

    private static async Task UntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("condition not reached");
            await Task.Delay(10);
        }
    }

    [Theory]
    [InlineData(V3)]
    [InlineData(V5)]
    public async Task Connect_sends_persistent_session_request(MqttProtocolVersion version)
    {
        await using var broker = new FakeBroker();
        await using var client = broker.Client(version);
        var accept = broker.AcceptAndConnAckAsync(version);
        await client.ConnectAsync();
        var (session, connect) = await accept;
        await using var _ = session;
        Assert.Equal(version, connect.ProtocolVersion);
        Assert.Equal("c1", connect.ClientId);
        Assert.False(connect.CleanStart);
        if (version == V5)
        {
            Assert.Equal((ushort)1024, connect.Properties.ReceiveMaximum);
            Assert.Equal(3600u, connect.Properties.SessionExpiryInterval);
        }
    }

    [Theory]
    [InlineData(V3)]
    [InlineData(V5)]
    public async Task Acks_called_out_of_order_are_sent_in_arrival_order(MqttProtocolVersion version)
    {
        await using var connected = await FakeBroker.ConnectedAsync(version);
        var (_, client, session) = connected;

        for (ushort id = 1; id <= 3; id++)
            await session.SendAsync(new PublishPacket { Topic = "t", Payload = new[] { (byte)id }, QoS = MqttQualityOfService.AtLeastOnce, PacketId = id });
        var m1 = await NextMessage(client);
        var m2 = await NextMessage(client);
        var m3 = await NextMessage(client);
        Assert.Equal([1, 2, 3], new[] { m1.Payload.Span[0], m2.Payload.Span[0], m3.Payload.Span[0] });

        await client.AckAsync(m3);
        Assert.Null(await session.TryReadAsync(TimeSpan.FromMilliseconds(200))); // held back: 1 and 2 are not acked
        await client.AckAsync(m1);
        Assert.Equal(1, Assert.IsType<PubAckPacket>(await session.ReadAsync()).PacketId);
        Assert.Null(await session.TryReadAsync(TimeSpan.FromMilliseconds(200)));
        await client.AckAsync(m2);
        Assert.Equal(2, Assert.IsType<PubAckPacket>(await session.ReadAsync()).PacketId);
        Assert.Equal(3, Assert.IsType<PubAckPacket>(await session.ReadAsync()).PacketId);
    }

    [Fact]
    public async Task Qos2_inbound_pubrec_after_ack_and_pubcomp_after_pubrel_without_double_delivery()
    {
        await using var connected = await FakeBroker.ConnectedAsync(V5);
        var (broker, client, session) = connected;

        var publish = new PublishPacket { Topic = "t", Payload = "x"u8.ToArray(), QoS = MqttQualityOfService.ExactlyOnce, PacketId = 5 };
        await session.SendAsync(publish);
        var message = await NextMessage(client);
        await session.SendAsync(publish.AsDuplicate()); // retransmission while the application still holds it
        Assert.Null(await session.TryReadAsync(TimeSpan.FromMilliseconds(200)));
        await client.AckAsync(message);
        Assert.Equal(5, Assert.IsType<PubRecPacket>(await session.ReadAsync()).PacketId);
        await session.SendAsync(publish.AsDuplicate()); // PUBREC lost: the broker resends, we answer PUBREC again
        Assert.Equal(5, Assert.IsType<PubRecPacket>(await session.ReadAsync()).PacketId);
        await session.SendAsync(new PubRelPacket { PacketId = 5 });
        var comp = Assert.IsType<PubCompPacket>(await session.ReadAsync());
        Assert.Equal(5, comp.PacketId);
        Assert.Equal(0, comp.ReasonCode);
        Assert.False(client.Messages.TryRead(out _)); // delivered exactly once
    }

    [Fact]
    public async Task Qos1_and_qos2_publish_complete_when_the_handshake_completes()
    {
        await using var connected = await FakeBroker.ConnectedAsync(V5);
        var (_, client, session) = connected;

        var qos1 = client.PublishAsync("a", "1"u8.ToArray(), MqttQualityOfService.AtLeastOnce);
        var p1 = Assert.IsType<PublishPacket>(await session.ReadAsync());
        Assert.False(qos1.IsCompleted);
        await session.SendAsync(new PubAckPacket { PacketId = p1.PacketId });
        await qos1.WaitAsync(TimeSpan.FromSeconds(5));

        var qos2 = client.PublishAsync("a", "2"u8.ToArray(), MqttQualityOfService.ExactlyOnce);
        var p2 = Assert.IsType<PublishPacket>(await session.ReadAsync());
        Assert.Equal(MqttQualityOfService.ExactlyOnce, p2.QoS);
        await session.SendAsync(new PubRecPacket { PacketId = p2.PacketId });
        Assert.Equal(p2.PacketId, Assert.IsType<PubRelPacket>(await session.ReadAsync()).PacketId);
        Assert.False(qos2.IsCompleted);
        await session.SendAsync(new PubCompPacket { PacketId = p2.PacketId });
        await qos2.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Refused_puback_surfaces_reason_code()
    {
        await using var connected = await FakeBroker.ConnectedAsync(V5);
        var (_, client, session) = connected;
        var publish = client.PublishAsync("a", "1"u8.ToArray());
        var p = Assert.IsType<PublishPacket>(await session.ReadAsync());
        await session.SendAsync(new PubAckPacket { PacketId = p.PacketId, ReasonCode = MqttReasonCode.NotAuthorized });
        var e = await Assert.ThrowsAsync<MqttRequestException>(() => publish);
        Assert.Equal(MqttReasonCode.NotAuthorized, e.ReasonCode);
    }

    [Theory]
    [InlineData(MqttReasonCode.Success)]
    [InlineData(MqttReasonCode.NoSubscriptionExisted)]
    public async Task Unsubscribe_sends_the_filter_and_returns_the_unsuback_code(byte code)
    {
        await using var connected = await FakeBroker.ConnectedAsync(V5);
        var (_, client, session) = connected;
        var unsubscribe = client.UnsubscribeAsync("$share/g/devices/+/telemetry");
        var packet = Assert.IsType<UnsubscribePacket>(await session.ReadAsync());
        Assert.Equal(["$share/g/devices/+/telemetry"], packet.Filters);
        await session.SendAsync(new UnsubAckPacket { PacketId = packet.PacketId, ReasonCodes = [code] });
        Assert.Equal(code, await unsubscribe.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Refused_unsuback_surfaces_reason_code_and_the_connection_stays_up()
    {
        await using var connected = await FakeBroker.ConnectedAsync(V5);
        var (_, client, session) = connected;
        var unsubscribe = client.UnsubscribeAsync("a/+");
        var packet = Assert.IsType<UnsubscribePacket>(await session.ReadAsync());
        await session.SendAsync(new UnsubAckPacket { PacketId = packet.PacketId, ReasonCodes = [MqttReasonCode.NotAuthorized] });
        var e = await Assert.ThrowsAsync<MqttRequestException>(() => unsubscribe.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(MqttReasonCode.NotAuthorized, e.ReasonCode);
        Assert.Contains("a/+", e.Message, StringComparison.Ordinal);

        // A refusal is the broker's answer, not a protocol violation: the same connection serves the next request.
        var again = client.UnsubscribeAsync("b");
        var next = Assert.IsType<UnsubscribePacket>(await session.ReadAsync());
        await session.SendAsync(new UnsubAckPacket { PacketId = next.PacketId, ReasonCodes = [MqttReasonCode.Success] });
        Assert.Equal(MqttReasonCode.Success, await again.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Theory]
    [InlineData("B0 04 {0} 00 01", MqttReasonCode.MalformedPacket)] // reason 0x01 is not an UNSUBACK code (§3.11.3)
    [InlineData("B0 03 {0} 00", MqttReasonCode.ProtocolError)] // no reason code
    [InlineData("B0 05 {0} 00 00 00", MqttReasonCode.ProtocolError)] // two reason codes for one filter
    [InlineData("90 04 {0} 00 00", MqttReasonCode.ProtocolError)] // SUBACK answering an UNSUBSCRIBE
    public async Task Malformed_unsuback_fails_the_call_disconnects_with_reason_and_the_client_reconnects(string hex, byte reason)
    {
        await using var broker = new FakeBroker();
        await using var client = broker.Client(V5);
        var accept = broker.AcceptAndConnAckAsync(V5);
        await client.ConnectAsync();
        var (first, _) = await accept;
        await using var s1 = first;

        var unsubscribe = client.UnsubscribeAsync("a/+");
        var packet = Assert.IsType<UnsubscribePacket>(await first.ReadAsync());
        await first.SendRawAsync(Codec.Hex.Bytes(string.Format(System.Globalization.CultureInfo.InvariantCulture, hex, $"{packet.PacketId >> 8:X2} {packet.PacketId & 0xFF:X2}")));

        // MQTT 5.0 §4.13: DISCONNECT with the reason code, the call fails, and the client connects again.
        var disconnect = Assert.IsType<DisconnectPacket>(await first.ReadAsync());
        Assert.Equal(reason, disconnect.ReasonCode);
        var e = await Assert.ThrowsAnyAsync<Exception>(() => unsubscribe.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.True(e is MqttProtocolException or IOException, e.ToString());
        var (second, _) = await broker.AcceptAndConnAckAsync(V5, new ConnAckPacket { SessionPresent = true });
        await using var s2 = second;
        await UntilAsync(() => client.IsConnected);
    }

    [Fact]
    public async Task Unsubscribe_while_disconnected_is_refused_and_the_filter_is_not_renewed()
    {
        await using var broker = new FakeBroker();
        await using var client = broker.Client(V5);
        var accept = broker.AcceptAndConnAckAsync(V5);
        await client.ConnectAsync();
        var (first, _) = await accept;
        var subscribe = client.SubscribeAsync("kept");
        var sub = Assert.IsType<SubscribePacket>(await first.ReadAsync());
        await first.SendAsync(new SubAckPacket { PacketId = sub.PacketId, ReasonCodes = [1] });
        await subscribe;
        var subscribe2 = client.SubscribeAsync("dropped");
        var sub2 = Assert.IsType<SubscribePacket>(await first.ReadAsync());
        await first.SendAsync(new SubAckPacket { PacketId = sub2.PacketId, ReasonCodes = [1] });
        await subscribe2;
        await first.DisposeAsync();
        await UntilAsync(() => !client.IsConnected);

        await Assert.ThrowsAsync<InvalidOperationException>(() => client.UnsubscribeAsync("dropped"));

        var (second, _) = await broker.AcceptAndConnAckAsync(V5, new ConnAckPacket { SessionPresent = true });
        await using var s2 = second;
        var resub = Assert.IsType<SubscribePacket>(await second.ReadAsync());
        Assert.Equal(["kept"], resub.Subscriptions.Select(x => x.Filter));
    }

    [Fact]
    public async Task Outbound_publishes_honour_the_brokers_receive_maximum()
    {
        await using var broker = new FakeBroker();
        await using var client = broker.Client(V5);
        var accept = broker.AcceptAndConnAckAsync(V5, new ConnAckPacket { Properties = new MqttProperties { ReceiveMaximum = 1 } });
        await client.ConnectAsync();
        var (session, _) = await accept;
        await using var s = session;

        var first = client.PublishAsync("a", "1"u8.ToArray());
        var second = client.PublishAsync("a", "2"u8.ToArray());
        var p1 = Assert.IsType<PublishPacket>(await session.ReadAsync());
        Assert.Null(await session.TryReadAsync(TimeSpan.FromMilliseconds(300))); // second waits for a free slot
        await session.SendAsync(new PubAckPacket { PacketId = p1.PacketId });
        var p2 = Assert.IsType<PublishPacket>(await session.ReadAsync());
        Assert.Equal("2", System.Text.Encoding.UTF8.GetString(p2.Payload.Span));
        await session.SendAsync(new PubAckPacket { PacketId = p2.PacketId });
        await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Theory]
    [InlineData(V3)]
    [InlineData(V5)]
    public async Task After_reconnect_unacked_publishes_are_resent_with_dup_and_subscriptions_renewed(MqttProtocolVersion version)
    {
        await using var broker = new FakeBroker();
        await using var client = broker.Client(version);
        var accept = broker.AcceptAndConnAckAsync(version);
        await client.ConnectAsync();
        var (first, _) = await accept;

        var subscribe = client.SubscribeAsync("$share/g/devices/+/telemetry");
        var sub = Assert.IsType<SubscribePacket>(await first.ReadAsync());
        await first.SendAsync(new SubAckPacket { PacketId = sub.PacketId, ReasonCodes = [1] });
        Assert.Equal(MqttQualityOfService.AtLeastOnce, await subscribe);

        var publish = client.PublishAsync("a", "1"u8.ToArray());
        var original = Assert.IsType<PublishPacket>(await first.ReadAsync());
        Assert.False(original.Duplicate);
        await first.DisposeAsync(); // network failure before PUBACK

        var (second, connect) = await broker.AcceptAndConnAckAsync(version, new ConnAckPacket { SessionPresent = true });
        await using var s2 = second;
        Assert.False(connect.CleanStart);
        var resent = Assert.IsType<PublishPacket>(await second.ReadAsync());
        Assert.True(resent.Duplicate);
        Assert.Equal(original.PacketId, resent.PacketId);
        var resub = Assert.IsType<SubscribePacket>(await second.ReadAsync());
        Assert.Equal("$share/g/devices/+/telemetry", resub.Subscriptions[0].Filter);
        await second.SendAsync(new SubAckPacket { PacketId = resub.PacketId, ReasonCodes = [1] });
        await second.SendAsync(new PubAckPacket { PacketId = resent.PacketId });
        await publish.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_batch_of_acks_goes_out_in_arrival_order_and_holds_back_what_follows_an_unacked_message()
    {
        await using var connected = await FakeBroker.ConnectedAsync(V5);
        var (_, client, session) = connected;
        for (ushort id = 1; id <= 4; id++)
            await session.SendAsync(new PublishPacket { Topic = "t", QoS = MqttQualityOfService.AtLeastOnce, PacketId = id });
        var received = new List<MqttApplicationMessage>();
        for (var i = 0; i < 4; i++)
            received.Add(await NextMessage(client));

        client.Ack([received[3], received[0], received[2]]);
        Assert.Equal(1, Assert.IsType<PubAckPacket>(await session.ReadAsync()).PacketId);
        Assert.Null(await session.TryReadAsync(TimeSpan.FromMilliseconds(200))); // 2 is not acked yet
        client.Ack([received[1]]);

        for (ushort id = 2; id <= 4; id++)
            Assert.Equal(id, Assert.IsType<PubAckPacket>(await session.ReadAsync()).PacketId);
    }

    /// <summary>Message 9 received on a connection the broker then drops; the broker's side of the client's reconnection.</summary>
    private static async Task<(MqttApplicationMessage Stale, FakeSession Second)> StaleMessageAfterReconnectAsync(FakeBroker broker, MqttClient client)
    {
        var accept = broker.AcceptAndConnAckAsync(V5);
        await client.ConnectAsync();
        var (first, _) = await accept;
        await first.SendAsync(new PublishPacket { Topic = "t", QoS = MqttQualityOfService.AtLeastOnce, PacketId = 9 });
        var stale = await NextMessage(client);
        await first.DisposeAsync();
        var (second, _) = await broker.AcceptAndConnAckAsync(V5, new ConnAckPacket { SessionPresent = true });
        return (stale, second);
    }

    [Fact]
    public async Task A_batch_of_acks_skips_the_messages_of_a_lost_connection()
    {
        await using var broker = new FakeBroker();
        await using var client = broker.Client(V5);
        var (stale, second) = await StaleMessageAfterReconnectAsync(broker, client);
        await using var s2 = second;
        await second.SendAsync(new PublishPacket { Topic = "t", QoS = MqttQualityOfService.AtLeastOnce, PacketId = 5 });
        var fresh = await NextMessage(client);

        client.Ack([stale, fresh]);

        Assert.Equal(5, Assert.IsType<PubAckPacket>(await second.ReadAsync()).PacketId);
        Assert.Null(await second.TryReadAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task Acks_for_messages_from_a_lost_connection_are_not_sent_on_the_new_one()
    {
        await using var broker = new FakeBroker();
        await using var client = broker.Client(V5);
        var (stale, second) = await StaleMessageAfterReconnectAsync(broker, client);
        await using var s2 = second;
        await client.AckAsync(stale);
        Assert.Null(await second.TryReadAsync(TimeSpan.FromMilliseconds(300)));
        // The broker redelivers (MQTT 5.0 §4.4) and the new delivery is acked normally.
        await second.SendAsync(new PublishPacket { Topic = "t", QoS = MqttQualityOfService.AtLeastOnce, PacketId = 9, Duplicate = true });
        var again = await NextMessage(client);
        Assert.True(again.Duplicate);
        await client.AckAsync(again);
        Assert.Equal(9, Assert.IsType<PubAckPacket>(await second.ReadAsync()).PacketId);
    }

    [Theory]
    [InlineData(V3, "20 02 00 04", MqttReasonCode.BadUserNameOrPassword)]
    [InlineData(V3, "20 02 00 05", MqttReasonCode.NotAuthorized)]
    [InlineData(V5, "20 03 00 87 00", MqttReasonCode.NotAuthorized)]
    public async Task Refused_connack_is_a_typed_exception(MqttProtocolVersion version, string connAck, byte reason)
    {
        await using var broker = new FakeBroker();
        await using var client = broker.Client(version);
        var serve = Task.Run(async () =>
        {
            await using var session = await broker.AcceptAsync(version);
            await session.ReadAsync();
            await session.SendRawAsync(Codec.Hex.Bytes(connAck));
            await session.IsClosedByClientAsync(TimeSpan.FromSeconds(5));
        });
        var e = await Assert.ThrowsAsync<MqttConnectException>(() => client.ConnectAsync());
        Assert.Equal(reason, e.ReasonCode);
        Assert.False(client.IsConnected);
        await serve;
    }

    [Fact]
    public async Task Malformed_connack_from_raw_socket_is_a_typed_protocol_error()
    {
        await using var broker = new FakeBroker();
        await using var client = broker.Client(V5);
        var serve = Task.Run(async () =>
        {
            await using var session = await broker.AcceptAsync(V5);
            await session.ReadAsync();
            await session.SendRawAsync(Codec.Hex.Bytes("20 03 02 00 00")); // reserved CONNACK flag bit
            await session.IsClosedByClientAsync(TimeSpan.FromSeconds(5));
        });
        var e = await Assert.ThrowsAsync<MqttProtocolException>(() => client.ConnectAsync());
        Assert.Equal(MqttReasonCode.MalformedPacket, e.ReasonCode);
        await serve;
    }

    [Theory]
    [InlineData("30 05 00 03 ED A0 80", MqttReasonCode.MalformedPacket, false)] // surrogate in topic
    [InlineData("30 FF FF FF FF 7F", MqttReasonCode.MalformedPacket, false)] // 5-byte remaining length
    [InlineData("30 F0 FF 7F", MqttReasonCode.PacketTooLarge, false)] // ~2 MiB announced, above our 1 MiB maximum
    [InlineData("90 03 00 01 00", MqttReasonCode.ProtocolError, false)] // SUBACK without reason codes
    [InlineData("10 00", MqttReasonCode.MalformedPacket, false)] // CONNECT from a server, body truncated
    [InlineData("30 05 00 03 ED A0 80", MqttReasonCode.MalformedPacket, true)] // surrogate in topic, read on the dedicated thread
    [InlineData("30 FF FF FF FF 7F", MqttReasonCode.MalformedPacket, true)] // 5-byte remaining length, read on the dedicated thread
    [InlineData("30 F0 FF 7F", MqttReasonCode.PacketTooLarge, true)] // ~2 MiB announced, above our 1 MiB maximum, read on the dedicated thread
    [InlineData("90 03 00 01 00", MqttReasonCode.ProtocolError, true)] // SUBACK without reason codes, read on the dedicated thread
    [InlineData("10 00", MqttReasonCode.MalformedPacket, true)] // CONNECT from a server, body truncated, read on the dedicated thread
    public async Task Malformed_packet_after_connack_disconnects_with_reason(string hex, byte reason, bool dedicatedReceiveThread)
    {
        await using var connected = await FakeBroker.ConnectedAsync(V5, dedicatedReceiveThread);
        var (_, client, session) = connected;
        await session.SendRawAsync(Codec.Hex.Bytes(hex));
        // MQTT 5.0 §4.13: DISCONNECT with the reason code, then the connection is closed.
        var disconnect = Assert.IsType<DisconnectPacket>(await session.ReadAsync());
        Assert.Equal(reason, disconnect.ReasonCode);
        Assert.True(await session.IsClosedByClientAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Missing_pingresp_drops_the_connection_and_the_client_reconnects()
    {
        await using var broker = new FakeBroker();
        await using var client = new MqttClient(new MqttClientOptions
        {
            Host = "127.0.0.1",
            Port = broker.Port,
            ClientId = "ka",
            KeepAlive = TimeSpan.FromSeconds(1),
            PingTimeout = TimeSpan.FromMilliseconds(500),
            ReconnectMinDelay = TimeSpan.FromMilliseconds(20),
        });
        var accept = broker.AcceptAndConnAckAsync(V5);
        await client.ConnectAsync();
        var (first, _) = await accept;
        await using var s1 = first;
        Assert.IsType<PingReqPacket>(await first.ReadAsync(TimeSpan.FromSeconds(3)));
        // No PINGRESP: the client gives up on this connection and connects again.
        var (second, _) = await broker.AcceptAndConnAckAsync(V5);
        await using var s2 = second;
        Assert.IsType<PingReqPacket>(await second.ReadAsync(TimeSpan.FromSeconds(3)));
        await second.SendAsync(PingRespPacket.Instance);
    }

    [Fact]
    public async Task Inbound_receive_maximum_overruns_are_tolerated_and_acks_keep_arrival_order()
    {
        await using var broker = new FakeBroker();
        await using var client = new MqttClient(new MqttClientOptions { Host = "127.0.0.1", Port = broker.Port, ClientId = "rm", ReceiveMaximum = 2, AutoReconnect = false });
        var accept = broker.AcceptAndConnAckAsync(V5);
        await client.ConnectAsync();
        var (session, _) = await accept;
        await using var s = session;
        // Window 2, but the broker sends 6 (as mosquitto 2.0.11 does when a backlog drains): all are delivered, no DISCONNECT.
        for (ushort id = 1; id <= 6; id++)
            await session.SendAsync(new PublishPacket { Topic = "t", QoS = MqttQualityOfService.AtLeastOnce, PacketId = id });
        var received = new List<MqttApplicationMessage>();
        for (var i = 0; i < 6; i++)
            received.Add(await client.Messages.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
        foreach (var message in Enumerable.Reverse(received))
            await client.AckAsync(message);

        for (ushort id = 1; id <= 6; id++)
            Assert.Equal(id, Assert.IsType<PubAckPacket>(await session.ReadAsync()).PacketId);
        Assert.True(client.IsConnected);
    }

    [Fact]
    public async Task Qos2_publish_interrupted_after_pubrec_resends_pubrel_not_publish()
    {
        await using var broker = new FakeBroker();
        await using var client = broker.Client(V5);
        var accept = broker.AcceptAndConnAckAsync(V5);
        await client.ConnectAsync();
        var (first, _) = await accept;
        var publish = client.PublishAsync("a", "x"u8.ToArray(), MqttQualityOfService.ExactlyOnce);
        var p = Assert.IsType<PublishPacket>(await first.ReadAsync());
        await first.SendAsync(new PubRecPacket { PacketId = p.PacketId });
        Assert.IsType<PubRelPacket>(await first.ReadAsync());
        await first.DisposeAsync(); // PUBCOMP never arrives

        var (second, _) = await broker.AcceptAndConnAckAsync(V5, new ConnAckPacket { SessionPresent = true });
        await using var s2 = second;
        // MQTT 5.0 §4.4: the broker already has the message; only PUBREL is resent.
        Assert.Equal(p.PacketId, Assert.IsType<PubRelPacket>(await second.ReadAsync()).PacketId);
        await second.SendAsync(new PubCompPacket { PacketId = p.PacketId });
        await publish.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Disconnect_sends_disconnect_and_does_not_reconnect()
    {
        await using var connected = await FakeBroker.ConnectedAsync(V5);
        var (broker, client, session) = connected;
        await client.DisconnectAsync();
        Assert.IsType<DisconnectPacket>(await session.ReadAsync());
        Assert.True(await session.IsClosedByClientAsync(TimeSpan.FromSeconds(5)));
        Assert.False(client.IsConnected);
        var again = broker.AcceptAsync(V5);
        await Task.Delay(300);
        Assert.False(again.IsCompleted);
    }

    [Fact]
    public async Task Will_and_credentials_are_sent_in_connect()
    {
        await using var broker = new FakeBroker();
        await using var client = new MqttClient(new MqttClientOptions
        {
            Host = "127.0.0.1",
            Port = broker.Port,
            ClientId = "w",
            UserName = "user",
            Password = "secret",
            Will = new MqttLastWill { Topic = "devices/w/status", Payload = "offline"u8.ToArray(), Retain = true, DelayInterval = 5 },
        });
        var accept = broker.AcceptAndConnAckAsync(V5);
        await client.ConnectAsync();
        var (session, connect) = await accept;
        await using var s = session;
        Assert.Equal("user", connect.UserName);
        Assert.Equal("secret"u8.ToArray(), connect.Password);
        Assert.Equal("devices/w/status", connect.Will!.Topic);
        Assert.True(connect.Will.Retain);
        Assert.Equal(5u, connect.Will.Properties.WillDelayInterval);
    }

    [Fact]
    public async Task Callback_processing_acks_in_order()
    {
        await using var connected = await FakeBroker.ConnectedAsync(V3);
        var (_, client, session) = connected;
        using var stop = new CancellationTokenSource();
        var processing = client.ProcessMessagesAsync(async (message, ct) =>
        {
            await Task.Yield();
            await client.AckAsync(message);
        }, stop.Token);
        for (ushort id = 1; id <= 5; id++)
            await session.SendAsync(new PublishPacket { Topic = "t", QoS = MqttQualityOfService.AtLeastOnce, PacketId = id });
        for (ushort id = 1; id <= 5; id++)
            Assert.Equal(id, Assert.IsType<PubAckPacket>(await session.ReadAsync()).PacketId);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => processing);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // the blocking wait for CONNACK ends too
    public async Task Missing_connack_is_a_timeout(bool dedicatedReceiveThread)
    {
        await using var broker = new FakeBroker();
        await using var client = new MqttClient(new MqttClientOptions
        {
            Host = "127.0.0.1", Port = broker.Port, ClientId = "t", ConnectTimeout = TimeSpan.FromMilliseconds(300),
            DedicatedReceiveThread = dedicatedReceiveThread,
        });
        var accept = broker.AcceptAsync(V5);
        var connect = client.ConnectAsync();
        Assert.Same(connect, await Task.WhenAny(connect, Task.Delay(TimeSpan.FromSeconds(10)))); // it gives up, not hangs
        await Assert.ThrowsAsync<TimeoutException>(() => connect);
        await using var session = await accept;
        Assert.IsType<ConnectPacket>(await session.ReadAsync());
    }

    [Fact]
    public async Task Limits_from_connack_are_enforced_before_sending()
    {
        await using var broker = new FakeBroker();
        await using var client = broker.Client(V5);
        var accept = broker.AcceptAndConnAckAsync(V5, new ConnAckPacket
        {
            Properties = new MqttProperties { MaximumPacketSize = 100, MaximumQoS = 1, RetainAvailable = 0 },
        });
        await client.ConnectAsync();
        var (session, _) = await accept;
        await using var s = session;
        Assert.Equal(MqttReasonCode.PacketTooLarge, (await Assert.ThrowsAsync<MqttRequestException>(() => client.PublishAsync("t", new byte[200]))).ReasonCode);
        Assert.Equal(MqttReasonCode.QoSNotSupported, (await Assert.ThrowsAsync<MqttRequestException>(() => client.PublishAsync("t", new byte[1], MqttQualityOfService.ExactlyOnce))).ReasonCode);
        Assert.Equal(MqttReasonCode.RetainNotSupported, (await Assert.ThrowsAsync<MqttRequestException>(() => client.PublishAsync("t", new byte[1], retain: true))).ReasonCode);
        await Assert.ThrowsAsync<ArgumentException>(() => client.PublishAsync("a/+", new byte[1]));
        Assert.Null(await session.TryReadAsync(TimeSpan.FromMilliseconds(200))); // nothing reached the wire
    }
}
