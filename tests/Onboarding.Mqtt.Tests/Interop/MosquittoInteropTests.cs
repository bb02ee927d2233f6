using System.Text;
using Xunit.Abstractions;

namespace Onboarding.Mqtt.Tests.Interop;

[Trait("Category", "Interop")]
public class MosquittoInteropTests(MosquittoFixture broker, ITestOutputHelper output) : IClassFixture<MosquittoFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    private static async Task<MqttApplicationMessage> NextAsync(MqttClient client) =>
        await client.Messages.ReadAsync().AsTask().WaitAsync(Timeout);

    private static string Text(MqttApplicationMessage m) => Encoding.UTF8.GetString(m.Payload.Span);

    [Theory]
    [InlineData(MqttProtocolVersion.V311)]
    [InlineData(MqttProtocolVersion.V500)]
    public async Task Our_publishes_at_every_qos_reach_mosquitto_sub(MqttProtocolVersion version)
    {
        var topic = Unique("interop/out");
        using var sub = await broker.StartSubscriberAsync(topic, 3, version);
        await using var client = new MqttClient(broker.Options(version, Unique("pub")));
        await client.ConnectAsync();

        await client.PublishAsync(topic, "qos0"u8.ToArray(), MqttQualityOfService.AtMostOnce);
        await client.PublishAsync(topic, "qos1"u8.ToArray(), MqttQualityOfService.AtLeastOnce);
        await client.PublishAsync(topic, "qos2"u8.ToArray(), MqttQualityOfService.ExactlyOnce);

        Assert.Equal(["qos0", "qos1", "qos2"], await sub.MessagesAsync(Timeout));
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V311)]
    [InlineData(MqttProtocolVersion.V500)]
    public async Task Mosquitto_pub_messages_reach_our_client_with_manual_ack(MqttProtocolVersion version)
    {
        var topic = Unique("interop/in");
        await using var client = new MqttClient(broker.Options(version, Unique("sub")));
        await client.ConnectAsync();
        Assert.Equal(MqttQualityOfService.ExactlyOnce, await client.SubscribeAsync(topic, MqttQualityOfService.ExactlyOnce));

        await broker.PublishWithMosquittoPubAsync(topic, "one", 1, version);
        var first = await NextAsync(client);
        Assert.Equal(("one", MqttQualityOfService.AtLeastOnce), (Text(first), first.QoS));
        await client.AckAsync(first);

        await broker.PublishWithMosquittoPubAsync(topic, "two", 2, version);
        var second = await NextAsync(client);
        Assert.Equal(("two", MqttQualityOfService.ExactlyOnce), (Text(second), second.QoS));
        await client.AckAsync(second);

        // The QoS 2 exchange finishes (PUBREL/PUBCOMP); a publish afterwards still flows.
        await broker.PublishWithMosquittoPubAsync(topic, "three", 1, version);
        var third = await NextAsync(client);
        Assert.Equal("three", Text(third));
        await client.AckAsync(third);
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V311)]
    [InlineData(MqttProtocolVersion.V500)]
    public async Task Persistent_session_delivers_messages_published_while_offline(MqttProtocolVersion version)
    {
        var topic = Unique("interop/offline");
        var clientId = Unique("persistent");
        // Clean Start false: in 3.1.1 Clean Session 1 would also end the session at disconnect (§3.1.2.4).
        await using (var first = new MqttClient(broker.Options(version, clientId)))
        {
            await first.ConnectAsync();
            await first.SubscribeAsync(topic, MqttQualityOfService.AtLeastOnce);
            await first.DisconnectAsync();
        }

        for (var i = 0; i < 3; i++)
            await broker.PublishWithMosquittoPubAsync(topic, $"offline-{i}", 1, version);

        var sessionPresent = new TaskCompletionSource<bool>();
        await using var second = new MqttClient(broker.Options(version, clientId, cleanStart: false));
        second.Connected += present => sessionPresent.TrySetResult(present);
        await second.ConnectAsync();
        Assert.True(await sessionPresent.Task);
        for (var i = 0; i < 3; i++)
        {
            var message = await NextAsync(second);
            Assert.Equal($"offline-{i}", Text(message));
            await second.AckAsync(message);
        }
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V311)]
    [InlineData(MqttProtocolVersion.V500)]
    public async Task Unacked_messages_are_redelivered_after_reconnect(MqttProtocolVersion version)
    {
        var topic = Unique("interop/redeliver");
        await using var client = new MqttClient(broker.Options(version, Unique("alo")));
        var connections = 0;
        client.Connected += _ => Interlocked.Increment(ref connections);
        await client.ConnectAsync();
        await client.SubscribeAsync(topic, MqttQualityOfService.AtLeastOnce);

        await broker.PublishWithMosquittoPubAsync(topic, "a", 1, version);
        await broker.PublishWithMosquittoPubAsync(topic, "b", 1, version);
        var a = await NextAsync(client);
        var b = await NextAsync(client);
        Assert.Equal(["a", "b"], new[] { Text(a), Text(b) });
        await client.AckAsync(b); // held back behind a; nothing is acknowledged yet

        client.AbortConnection(); // e.g. the ingester's database commit failed and the network dropped
        var again = new List<MqttApplicationMessage> { await NextAsync(client), await NextAsync(client) };
        Assert.Equal(["a", "b"], again.Select(Text));
        Assert.All(again, m => Assert.True(m.Duplicate));
        // Connected is raised after the new connection starts reading, so it may trail the redelivery.
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref connections) == 2, TimeSpan.FromSeconds(5)));
        foreach (var m in again)
            await client.AckAsync(m);
        // Packets leave in order, so once this PUBACK returns the broker has processed our PUBACKs too.
        await client.PublishAsync(Unique("interop/barrier"), "x"u8.ToArray());

        // Acked now: a further reconnect brings nothing back.
        client.AbortConnection();
        await broker.PublishWithMosquittoPubAsync(topic, "c", 1, version);
        Assert.Equal("c", Text(await NextAsync(client)));
    }

    [Fact]
    public async Task Shared_subscription_splits_the_load_between_two_clients()
    {
        var topic = Unique("interop/shared");
        var filter = $"$share/ingest/{topic}";
        await using var one = new MqttClient(broker.Options(MqttProtocolVersion.V500, Unique("ingest1"), cleanStart: true));
        await using var two = new MqttClient(broker.Options(MqttProtocolVersion.V311, Unique("ingest2"), cleanStart: true));
        await one.ConnectAsync();
        await two.ConnectAsync();
        await one.SubscribeAsync(filter);
        await two.SubscribeAsync(filter);

        await using var publisher = new MqttClient(broker.Options(MqttProtocolVersion.V500, Unique("producer")));
        await publisher.ConnectAsync();
        const int total = 40;
        for (var i = 0; i < total; i++)
            await publisher.PublishAsync(topic, Encoding.UTF8.GetBytes($"m{i}"));

        var received = new List<string>();
        var counts = new int[2];
        var clients = new[] { one, two };
        var deadline = DateTime.UtcNow + Timeout;
        while (received.Count < total && DateTime.UtcNow < deadline)
        {
            for (var c = 0; c < 2; c++)
            {
                while (clients[c].Messages.TryRead(out var m))
                {
                    received.Add(Text(m));
                    counts[c]++;
                    await clients[c].AckAsync(m);
                }
            }
            await Task.Delay(20);
        }
        Assert.Equal(total, received.Distinct().Count());
        Assert.True(counts[0] > 0 && counts[1] > 0, $"split {counts[0]}/{counts[1]}");
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V311)]
    [InlineData(MqttProtocolVersion.V500)]
    public async Task Wrong_password_is_a_typed_connect_exception(MqttProtocolVersion version)
    {
        var options = broker.Options(version, Unique("auth"), port: broker.PasswordPort);
        await using var wrong = new MqttClient(new MqttClientOptions
        {
            Host = options.Host, Port = options.Port, ClientId = options.ClientId, ProtocolVersion = version,
            UserName = MosquittoFixture.UserName, Password = "wrong",
        });
        var e = await Assert.ThrowsAsync<MqttConnectException>(() => wrong.ConnectAsync());
        Assert.Contains(e.ReasonCode, new[] { MqttReasonCode.BadUserNameOrPassword, MqttReasonCode.NotAuthorized });

        await using var right = new MqttClient(new MqttClientOptions
        {
            Host = options.Host, Port = options.Port, ClientId = options.ClientId, ProtocolVersion = version,
            UserName = MosquittoFixture.UserName, Password = MosquittoFixture.Password,
        });
        await right.ConnectAsync();
        Assert.True(right.IsConnected);
    }

    [Fact]
    public async Task Many_qos1_messages_flow_through_with_batched_acks()
    {
        var topic = Unique("interop/throughput");
        await using var consumer = new MqttClient(broker.Options(MqttProtocolVersion.V500, Unique("consumer"), cleanStart: true));
        await consumer.ConnectAsync();
        await consumer.SubscribeAsync(topic);
        await using var producer = new MqttClient(broker.Options(MqttProtocolVersion.V500, Unique("producer")));
        await producer.ConnectAsync();

        const int count = 2000;
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        var publishing = Task.WhenAll(Enumerable.Range(0, count).Select(i => producer.PublishAsync(topic, BitConverter.GetBytes(i))));
        var batch = new List<MqttApplicationMessage>();
        var seen = 0;
        while (seen < count)
        {
            var m = await NextAsync(consumer);
            Assert.Equal(seen, BitConverter.ToInt32(m.Payload.Span));
            batch.Add(m);
            seen++;
            if (batch.Count == 100 || seen == count)
            {
                // Ack the batch in reverse, as a commit callback might: PUBACKs still leave in order.
                foreach (var message in Enumerable.Reverse(batch))
                    await consumer.AckAsync(message);
                batch.Clear();
            }
        }
        await publishing.WaitAsync(Timeout);
        output.WriteLine($"{count} QoS 1 messages end to end through mosquitto in {stopwatch.ElapsedMilliseconds} ms ({count / stopwatch.Elapsed.TotalSeconds:F0} msg/s)");
    }

    [Fact]
    public async Task Empty_client_id_311_with_persistent_session_is_refused_with_identifier_rejected()
    {
        // MQTT 3.1.1 §3.1.3.1: a zero-length Client Identifier requires Clean Session 1.
        await using var client = new MqttClient(broker.Options(MqttProtocolVersion.V311, "", cleanStart: false));
        var e = await Assert.ThrowsAsync<MqttConnectException>(() => client.ConnectAsync());
        Assert.Equal(MqttReasonCode.ClientIdentifierNotValid, e.ReasonCode);
    }

    [Fact]
    public async Task Empty_client_id_5_gets_an_assigned_identifier()
    {
        await using var client = new MqttClient(broker.Options(MqttProtocolVersion.V500, "", cleanStart: true));
        await client.ConnectAsync();
        Assert.False(string.IsNullOrEmpty(client.ClientId)); // MQTT 5.0 §3.2.2.3.7 Assigned Client Identifier
    }

    [Fact]
    public async Task Broker_honours_our_receive_maximum_and_resumes_after_acks()
    {
        var topic = Unique("interop/window");
        var options = broker.Options(MqttProtocolVersion.V500, Unique("window"));
        await using var consumer = new MqttClient(new MqttClientOptions
        {
            Host = options.Host, Port = options.Port, ClientId = options.ClientId, ReceiveMaximum = 50,
        });
        await consumer.ConnectAsync();
        await consumer.SubscribeAsync(topic);
        await using var producer = new MqttClient(broker.Options(MqttProtocolVersion.V500, Unique("producer")));
        await producer.ConnectAsync();
        for (var i = 0; i < 120; i++)
            await producer.PublishAsync(topic, BitConverter.GetBytes(i));

        await Task.Delay(500);
        var held = new List<MqttApplicationMessage>();
        while (consumer.Messages.TryRead(out var m))
            held.Add(m);
        Assert.Equal(50, held.Count); // MQTT 5.0 §4.9: no more than Receive Maximum unacknowledged
        var connections = 0;
        consumer.Connected += _ => Interlocked.Increment(ref connections);

        foreach (var m in held)
            await consumer.AckAsync(m);
        var got = new List<int>();
        for (var i = 50; i < 120; i++)
        {
            var m = await NextAsync(consumer);
            got.Add(BitConverter.ToInt32(m.Payload.Span));
            await consumer.AckAsync(m);
        }
        Assert.Equal(Enumerable.Range(50, 70), got); // in order, no redelivery: the connection stayed up
        Assert.Equal(0, connections);
    }

    [Theory]
    [InlineData(MqttProtocolVersion.V311)]
    [InlineData(MqttProtocolVersion.V500)]
    public async Task Unsubscribed_filters_stop_delivering_and_are_not_renewed_on_reconnect(MqttProtocolVersion version)
    {
        var kept = Unique("interop/kept");
        var dropped = Unique("interop/dropped");
        await using var client = new MqttClient(broker.Options(version, Unique("unsub")));
        await client.ConnectAsync();
        await client.SubscribeAsync(kept);
        await client.SubscribeAsync(dropped);
        await client.UnsubscribeAsync(dropped);
        client.AbortConnection(); // reconnect renews only the remaining subscription

        await broker.PublishWithMosquittoPubAsync(dropped, "no", 1, version);
        var deadline = DateTime.UtcNow + Timeout;
        MqttApplicationMessage? message = null;
        while (message is null && DateTime.UtcNow < deadline)
        {
            await broker.PublishWithMosquittoPubAsync(kept, "yes", 1, version);
            using var wait = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
            try
            {
                message = await client.Messages.ReadAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                // reconnect or re-subscription still in progress
            }
        }
        Assert.NotNull(message);
        Assert.Equal(kept, message.Topic);
        await client.AckAsync(message);
        await broker.PublishWithMosquittoPubAsync(dropped, "no", 1, version);
        await Task.Delay(300);
        while (client.Messages.TryRead(out var extra))
            Assert.Equal(kept, extra.Topic);
    }
}
