using System.Text;

namespace Onboarding.Mqtt.Tests.Interop;

/// <summary>Own class (and so its own broker): restarting the broker must not disturb other tests.</summary>
[Trait("Category", "Interop")]
public class BrokerRestartTests(MosquittoFixture broker) : IClassFixture<MosquittoFixture>
{
    [Theory]
    [InlineData(MqttProtocolVersion.V311)]
    [InlineData(MqttProtocolVersion.V500)]
    public async Task After_a_broker_restart_the_client_reconnects_and_subscribes_again(MqttProtocolVersion version)
    {
        var topic = $"restart/{Guid.NewGuid():N}";
        await using var client = new MqttClient(broker.Options(version, $"restart-{Guid.NewGuid():N}"));
        var connects = new List<bool>();
        var reconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Connected += sessionPresent =>
        {
            lock (connects)
            {
                connects.Add(sessionPresent);
                if (connects.Count == 2)
                    reconnected.TrySetResult();
            }
        };
        await client.ConnectAsync();
        await client.SubscribeAsync(topic);

        await broker.RestartAsync(TimeSpan.FromMilliseconds(300));
        await reconnected.Task.WaitAsync(TimeSpan.FromSeconds(15));
        // The restarted broker has no session (Session Present 0): only our re-subscription makes this arrive.
        Assert.False(connects[1]);
        // The SUBACK of the re-subscription may still be in flight; publish until a message arrives.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        MqttApplicationMessage? message = null;
        while (message is null && DateTime.UtcNow < deadline)
        {
            await broker.PublishWithMosquittoPubAsync(topic, "after-restart", 1, version);
            using var wait = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
            try
            {
                message = await client.Messages.ReadAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                // not subscribed yet
            }
        }
        Assert.NotNull(message);
        Assert.Equal("after-restart", Encoding.UTF8.GetString(message.Payload.Span));
        await client.AckAsync(message);
    }
}
