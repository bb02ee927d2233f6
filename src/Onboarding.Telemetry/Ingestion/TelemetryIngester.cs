using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Onboarding.Mqtt;
using Onboarding.Telemetry.Pki;

namespace Onboarding.Telemetry.Ingestion;

/// <summary>
/// Reads <c>$share/&lt;group&gt;/devices/+/telemetry</c> from the broker's internal listener and writes it to
/// PostgreSQL in batches (on batch size or on the flush interval, whichever comes first). Messages are acked only
/// after their batch committed (DESIGN.md "Protocol libraries", MQTT): at-least-once, made idempotent by the
/// readings' (device_name, signal_date) key. A failed write is retried, never acked, so a database outage loses nothing.
/// </summary>
internal sealed class TelemetryIngester(
    IOptions<TelemetryOptions> options, IServiceProvider services, TelemetryBatchWriter writer, IngesterSubscriptions subscriptions,
    ILoggerFactory loggerFactory, ILogger<TelemetryIngester> logger) : BackgroundService
{
    /// <summary>Milliseconds between drains of the message channel while a batch fills.</summary>
    private const long CollectPause = 5;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled)
            return;

        // Resolved only now, so a host with telemetry off never creates a device CA.
        var ca = services.GetRequiredService<DeviceCertificateAuthority>();
        try
        {
            await services.GetRequiredService<RevocationList>().PublishAsync(stoppingToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Could not republish the device CRL at start-up; the previous one stays in place");
        }

        await using var client = new MqttClient(new MqttClientOptions
        {
            Host = settings.Broker.InternalHost,
            Port = settings.Broker.InternalPort,
            ClientId = settings.Ingestion.ClientId ?? $"nms-ingester-{Environment.MachineName}",
            UserName = settings.Broker.IngesterUserName,
            Password = ca.IngesterSecret,
            ProtocolVersion = MqttProtocolVersion.V500,
            CleanStart = false,
            SessionExpiryInterval = 24 * 3600,
            ReceiveMaximum = settings.Ingestion.ReceiveMaximum,
            // The ingester reads tens of thousands of messages a second: one woken thread per read, not two.
            DedicatedReceiveThread = true,
            ReconnectMinDelay = TimeSpan.FromMilliseconds(200),
            ReconnectMaxDelay = TimeSpan.FromSeconds(10),
        }, loggerFactory.CreateLogger<MqttClient>());

        // No group: a plain subscription. mosquitto 2.0.11 restores a persistent session's plain subscriptions from its
        // persistence file after a restart, but not its $share/ ones: until the ingester has reconnected and subscribed
        // again, a device's QoS 1 publish matches nothing, is PUBACKed with 0x10 (No matching subscribers) and dropped
        // (bench/README.md, telemetry, --stop-broker-for). So the default is no group; a group is for several ingesters.
        var group = settings.Ingestion.SharedSubscriptionGroup;
        string Filter(string leaf) => string.IsNullOrEmpty(group) ? $"devices/+/{leaf}" : $"$share/{group}/devices/+/{leaf}";
        // Device twin: devices report the configuration version they applied on .../state.
        string[] wanted = [Filter("telemetry"), Filter("state")];

        var sessionPresent = false;
        var connected = false;
        client.Connected += present =>
        {
            sessionPresent = present;
            // A filter an earlier connection could not unsubscribe is tried again on every later one.
            if (Volatile.Read(ref connected) && present && subscriptions.StaleLeft)
                _ = RemoveStaleSubscriptionsAsync(client, wanted, stoppingToken);
        };
        await ConnectAsync(client, settings, stoppingToken);
        await ApplySubscriptionsAsync(client, () => sessionPresent, wanted, stoppingToken);
        Volatile.Write(ref connected, true);
        if (subscriptions.StaleLeft)
            _ = RemoveStaleSubscriptionsAsync(client, wanted, stoppingToken); // fails while disconnected; the next CONNACK retries
        logger.LogInformation("Telemetry ingester subscribed to {Filter} (and state) at {Host}:{Port}", wanted[0], settings.Broker.InternalHost, settings.Broker.InternalPort);
        // The loop has a thread of its own, and writes with synchronous database calls (TelemetryBatchWriter): at tens of
        // thousands of messages a second, every await that resumes on the thread pool is a thread woken for nothing.
        var consumed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                Consume(client, settings.Ingestion, stoppingToken);
                consumed.SetResult();
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                consumed.SetResult();
            }
            catch (Exception ex)
            {
                consumed.SetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = "Telemetry ingester",
        };
        thread.Start();
        await consumed.Task;
    }

    private async Task ConnectAsync(MqttClient client, TelemetryOptions settings, CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            try
            {
                await client.ConnectAsync(stoppingToken);
                break;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning("Telemetry ingester cannot reach the broker at {Host}:{Port} yet ({Error}); retrying in {Delay}",
                    settings.Broker.InternalHost, settings.Broker.InternalPort, ex.Message, delay);
                await Task.Delay(delay, stoppingToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
        }
    }

    /// <summary>
    /// Records, unsubscribes and subscribes (<see cref="IngesterSubscriptions.ApplyAsync"/>), retried with back-off: a
    /// database that is away at start-up must not stop the host. Every step is idempotent (ON CONFLICT DO NOTHING,
    /// UNSUBACK 0x11 for a filter already gone, SUBSCRIBE replaces an existing subscription, MQTT 5.0 §3.8.4).
    /// </summary>
    private async Task ApplySubscriptionsAsync(MqttClient client, Func<bool> sessionPresent, string[] wanted, CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            try
            {
                await subscriptions.ApplyAsync(client, sessionPresent(), wanted, stoppingToken);
                return;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Telemetry ingester could not set up its subscriptions; retrying in {Delay}", delay);
                await Task.Delay(delay, stoppingToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
        }
    }

    private async Task RemoveStaleSubscriptionsAsync(MqttClient client, string[] wanted, CancellationToken stoppingToken)
    {
        try
        {
            await subscriptions.RemoveStaleAsync(client, wanted, stoppingToken);
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            // The database may be away; the next connect tries again.
            logger.LogWarning(ex, "Telemetry ingester could not check its recorded subscriptions");
        }
    }

    private void Consume(MqttClient client, IngestionOptions settings, CancellationToken stoppingToken)
    {
        var reader = client.Messages;
        var batch = new List<MqttApplicationMessage>(settings.BatchSize);
        // Blocks only while nothing has arrived; false once the client is disposed.
        while (reader.WaitToReadAsync(stoppingToken).AsTask().GetAwaiter().GetResult())
        {
            // Collect until the batch is full or the flush interval has passed since its first message. Between drains
            // the thread sleeps a few milliseconds instead of waiting on the channel: woken per message, it would be woken
            // tens of thousands of times a second. The broker keeps at most Receive Maximum unacknowledged, so a batch
            // that cannot fill is written when the interval has passed.
            var deadline = Environment.TickCount64 + (long)settings.FlushInterval.TotalMilliseconds;
            while (true)
            {
                while (batch.Count < settings.BatchSize && reader.TryRead(out var message))
                    batch.Add(message);
                var left = deadline - Environment.TickCount64;
                if (batch.Count >= settings.BatchSize || left <= 0)
                    break;
                Pause(TimeSpan.FromMilliseconds(Math.Min(left, CollectPause)), stoppingToken);
            }

            WriteUntilCommitted(batch, stoppingToken);
            client.Ack(batch);
            batch.Clear();
        }
    }

    private void WriteUntilCommitted(List<MqttApplicationMessage> batch, CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                writer.Write(batch);
                return;
            }
            // Anything but shutdown is retried: an exception escaping a BackgroundService would stop the host.
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Telemetry batch of {Count} messages not written; retrying in {Delay} (nothing is acked until it commits)",
                    batch.Count, delay);
                Pause(delay, stoppingToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    /// <summary>Sleeps on the ingester's thread; shutdown ends the sleep (and the loop).</summary>
    private static void Pause(TimeSpan duration, CancellationToken stoppingToken)
    {
        if (stoppingToken.WaitHandle.WaitOne(duration))
            throw new OperationCanceledException(stoppingToken);
    }
}
