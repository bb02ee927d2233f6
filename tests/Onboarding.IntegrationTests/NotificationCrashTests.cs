using Npgsql;
using Onboarding.IntegrationTests.Infrastructure;

namespace Onboarding.IntegrationTests;

/// <summary>The in-process host only records device steps (its dispatcher is off); the built host, run as a process, sends.</summary>
public sealed class StepsOnlyFactory : OnboardingFactory
{
    public StepsOnlyFactory()
    {
        With("Outbox:DispatcherEnabled", "false");
        With("Notifications:AllowHttpWebhooks", "true");
        With("Notifications:AllowPrivateNetworkWebhooks", "true");
    }
}

/// <summary>
/// Notifications survive the death of their host: the receiver is down while devices are onboarded, the sending host is
/// killed with SIGKILL, the receiver comes up, a new host starts, and every notification arrives exactly once.
/// </summary>
public class NotificationCrashTests(StepsOnlyFactory factory) : IClassFixture<StepsOnlyFactory>
{
    private const int Devices = 5;

    [Fact]
    public async Task Notifications_pending_at_a_kill_9_are_delivered_exactly_once_after_restart()
    {
        var receiverPort = WebhookReceiver.FreePort();
        var setup = await ManufacturerSetup.CreateAsync(factory, "Crash Notify Telecom");
        await NotificationRig.SetWebhookAsync(setup.Customer, $"http://127.0.0.1:{receiverPort}/hooks/onboarding");
        var serials = Enumerable.Range(1, Devices).Select(i => $"NT-CRASH-{i}").ToArray();
        var devices = await NotificationRig.BookkeepAsync(factory.Services, setup, serials);
        foreach (var id in devices.Values)
            await NotificationRig.OnboardAsync(factory.Services, id);

        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings:Onboarding"] = factory.ConnectionString,
            // The same key store: the Data Protection keys that decrypt the webhook secret.
            ["KeyStore:Directory"] = factory.KeyStoreDirectory,
            ["Nms:PublicHost"] = "nms.test.example",
            ["Notifications:AllowHttpWebhooks"] = "true",
            ["Notifications:AllowPrivateNetworkWebhooks"] = "true",
            ["Notifications:MaxAttempts"] = "60",
            ["Outbox:MaxAttempts"] = "100",
            ["Outbox:BaseDelay"] = "00:00:00.100",
            ["Outbox:MaxDelay"] = "00:00:00.500",
            ["Outbox:PollInterval"] = "00:00:00.100",
            // A short lease, so a claim the dead host held comes back within the test.
            ["Outbox:LeaseDuration"] = "00:00:03",
        };
        await using var db = NpgsqlDataSource.Create(factory.ConnectionString);

        var first = await HostProcess.StartAsync(settings);
        // Every device's delivery exists and has failed at least once against the absent receiver.
        await WaitAsync(db, "SELECT count(*) FROM notifications.deliveries d WHERE d.channel = 'Webhook' AND d.attempts > 0", Devices, first);
        await first.KillAsync();

        await using var receiver = await WebhookReceiver.StartAsync((_, _) => 200, receiverPort);
        await using var second = await HostProcess.StartAsync(settings);
        await WaitAsync(db, "SELECT count(*) FROM notifications.deliveries WHERE status = 'Delivered'", Devices, second);

        var deliveries = await ReadDeliveriesAsync(db);
        Assert.Equal(serials, deliveries.Values.Order());
        Assert.Equal(Devices, receiver.Received.Count);
        foreach (var deliveryId in deliveries.Keys)
            Assert.Equal(1, receiver.Count(deliveryId.ToString()));
        var items = await NotificationRig.ListAsync(setup.Customer);
        Assert.All(items, i => Assert.True(i.Attempts.Count >= 2 && i.Attempts[^1].Succeeded && i.Attempts.SkipLast(1).All(a => !a.Succeeded),
            $"{i.SerialNumber}: {string.Join(", ", i.Attempts.Select(a => $"{a.Succeeded} {a.Error}"))}"));
        Assert.Contains("Connection refused", items[0].Attempts[0].Error, StringComparison.Ordinal);
    }

    private static async Task WaitAsync(NpgsqlDataSource db, string countSql, int expected, HostProcess host)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            await using var command = db.CreateCommand(countSql);
            var count = (long)(await command.ExecuteScalarAsync())!;
            if (count >= expected)
                return;
            Assert.True(DateTime.UtcNow < deadline, $"{count} of {expected} for {countSql}:\n{host.Output}");
            await Task.Delay(100);
        }
    }

    private static async Task<Dictionary<Guid, string>> ReadDeliveriesAsync(NpgsqlDataSource db)
    {
        var deliveries = new Dictionary<Guid, string>();
        await using var command = db.CreateCommand("SELECT id, serial_number FROM notifications.deliveries WHERE channel = 'Webhook'");
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            deliveries[reader.GetGuid(0)] = reader.GetString(1);
        return deliveries;
    }
}
