using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.Inventory.Contracts;
using Onboarding.Notifications.Api;
using Onboarding.Notifications.Contracts;
using Onboarding.Notifications.Sending;
using Onboarding.ServiceDefaults.Outbox;

namespace Onboarding.IntegrationTests;

/// <summary>The host with a real SMTP server (aiosmtpd), quick outbox retries and three attempts per notification.</summary>
public sealed class NotificationsFactory : OnboardingFactory, IAsyncLifetime
{
    internal SmtpSink Smtp { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        Smtp = await SmtpSink.StartAsync();
        With("Notifications:AllowHttpWebhooks", "true");
        With("Notifications:AllowPrivateNetworkWebhooks", "true");
        With("Notifications:MaxAttempts", "3");
        // Long enough for a test to hold a request at the receiver on purpose.
        With("Notifications:WebhookTimeout", "00:01:00");
        With("Notifications:Smtp:Host", "127.0.0.1");
        With("Notifications:Smtp:Port", Smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        With("Notifications:Smtp:From", "nms@nms.test.example");
        With("Notifications:Smtp:UseTls", "None");
        With("Outbox:BaseDelay", "00:00:00.050");
        With("Outbox:MaxDelay", "00:00:00.200");
        With("Outbox:PollInterval", "00:00:00.100");
        await base.InitializeAsync();
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        Smtp.Dispose();
    }
}

/// <summary>
/// Owner notifications end to end: a device step through <see cref="IDeviceLifecycle"/> → the outbox fact → one
/// delivery per channel → a real webhook receiver (Kestrel) and a real SMTP server (aiosmtpd), with retries,
/// dead deliveries, idempotency and tenant isolation.
/// </summary>
public class NotificationTests(NotificationsFactory factory) : IClassFixture<NotificationsFactory>
{
    [Fact]
    public async Task An_onboarded_device_is_posted_signed_and_retried_until_the_receiver_takes_it()
    {
        // 500 twice, then 200, for every delivery.
        await using var receiver = await WebhookReceiver.StartAsync((_, earlier) => earlier < 2 ? 500 : 200);
        var setup = await ManufacturerSetup.CreateAsync(factory, "Webhook Telecom");
        var webhook = await NotificationRig.SetWebhookAsync(setup.Customer, receiver.Url);
        Assert.StartsWith("whsec_", webhook.Secret, StringComparison.Ordinal);
        var devices = await NotificationRig.BookkeepAsync(factory.Services, setup, "NT-ONB-1");

        await NotificationRig.OnboardAsync(factory.Services, devices["NT-ONB-1"]);

        var items = await NotificationRig.WaitForAsync(setup.Customer, i => i.Any(n => n.Channel == NotificationChannel.Webhook && n.Status == DeliveryStatus.Delivered));
        var delivery = items.Webhook("NT-ONB-1");
        Assert.Equal((OwnerEvent.DeviceOnboarded, devices["NT-ONB-1"].Value, receiver.Url), (delivery.Event, delivery.DeviceId, delivery.Target));
        Assert.Equal([(1, false, (int?)500), (2, false, 500), (3, true, 200)], delivery.Attempts.Select(a => (a.Number, a.Succeeded, a.StatusCode)));
        Assert.Equal("HTTP 500 Internal Server Error", delivery.Attempts[0].Error);
        Assert.Null(delivery.LastError);

        // What the receiver saw: three requests for one delivery id, the same body each time, each signed as documented.
        var requests = receiver.Received;
        Assert.Equal(3, requests.Count);
        Assert.All(requests, r => Assert.Equal(delivery.Id.ToString(), r.DeliveryId));
        Assert.All(requests, r => Assert.True(r.SignatureIsValid(webhook.Secret!), $"bad signature {r.Signature}"));
        Assert.All(requests, r => Assert.Equal(requests[0].Text, r.Text));
        Assert.All(requests, r => Assert.StartsWith("application/json", r.ContentType, StringComparison.Ordinal));
        Assert.False(requests[0].SignatureIsValid(webhook.Secret! + "0"));
        Assert.False((requests[0] with { Timestamp = "1" }).SignatureIsValid(webhook.Secret!));

        using var document = JsonDocument.Parse(requests[0].Body);
        var root = document.RootElement;
        Assert.Equal(delivery.Id.ToString(), root.GetProperty("deliveryId").GetString());
        Assert.Equal("device.onboarded", root.GetProperty("event").GetString());
        Assert.Equal(setup.Profile.Id, root.GetProperty("customerId").GetGuid());
        var device = root.GetProperty("device");
        Assert.Equal(("NT-ONB-1", "Configured", "Onboarded", "pre-configuration committed"),
            (device.GetProperty("serialNumber").GetString(), device.GetProperty("from").GetString(), device.GetProperty("to").GetString(),
             device.GetProperty("detail").GetString()));
        Assert.Equal(setup.Credentials.ManufacturerId, device.GetProperty("manufacturerId").GetGuid());
    }

    [Fact]
    public async Task A_webhook_that_always_fails_is_dead_after_MaxAttempts_and_shown_so()
    {
        await using var receiver = await WebhookReceiver.StartAsync((_, _) => 500);
        var setup = await ManufacturerSetup.CreateAsync(factory, "Failing Hook Telecom");
        await NotificationRig.SetWebhookAsync(setup.Customer, receiver.Url);
        var devices = await NotificationRig.BookkeepAsync(factory.Services, setup, "NT-REJ-1");

        await NotificationRig.StepAsync(factory.Services, devices["NT-REJ-1"], DeviceState.Rejected, "the certificate does not chain to the manufacturer's CA");

        var items = await NotificationRig.WaitForAsync(setup.Customer, i => i.Any(n => n.Channel == NotificationChannel.Webhook && n.Status == DeliveryStatus.Dead));
        var dead = items.Webhook("NT-REJ-1");
        Assert.Equal(OwnerEvent.DeviceRejected, dead.Event);
        Assert.Equal(3, dead.Attempts.Count);
        Assert.All(dead.Attempts, a => Assert.Equal((false, (int?)500), (a.Succeeded, a.StatusCode)));
        Assert.Equal("HTTP 500 Internal Server Error", dead.LastError);
        Assert.NotNull(dead.FinishedAt);
        Assert.Equal(3, receiver.Count(dead.Id.ToString()));
        Assert.Contains("the certificate does not chain", receiver.Received[0].Text, StringComparison.Ordinal);

        // The status filter finds it; a bad filter is a 400, not an empty list.
        Assert.Equal(dead.Id, (await NotificationRig.ListAsync(setup.Customer, "&status=dead")).Single(n => n.Channel == NotificationChannel.Webhook).Id);
        Assert.DoesNotContain(await NotificationRig.ListAsync(setup.Customer, "&status=delivered"), n => n.Id == dead.Id);
        await Problem.AssertValidationAsync(await setup.Customer.GetAsync("/api/notifications?status=lost"), "status");

        // Nothing more is sent for a dead delivery, and its outbox message ended normally (not an outbox dead letter).
        await using var db = NpgsqlDataSource.Create(factory.ConnectionString);
        await using var command = db.CreateCommand("SELECT state FROM outbox.messages WHERE type = @type AND payload->>'deliveryId' = @id");
        command.Parameters.AddWithValue("type", DeliverNotification.MessageType);
        command.Parameters.AddWithValue("id", dead.Id.ToString());
        Assert.Equal("done", await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task The_owner_gets_an_email_naming_the_serial_from_a_real_smtp_server()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Mail Telecom");
        var devices = await NotificationRig.BookkeepAsync(factory.Services, setup, "NT-MAIL-1");

        await NotificationRig.OnboardAsync(factory.Services, devices["NT-MAIL-1"]);

        var items = await NotificationRig.WaitForAsync(setup.Customer, i => i.Any(n => n.Channel == NotificationChannel.Email && n.Status == DeliveryStatus.Delivered));
        var email = Assert.Single(items);
        Assert.Equal((NotificationChannel.Email, "noc@acme.example", "NT-MAIL-1"), (email.Channel, email.Target, email.SerialNumber));
        Assert.Equal((true, (int?)250), (email.Attempts.Single().Succeeded, email.Attempts.Single().StatusCode));
        var message = Assert.Single(factory.Smtp.Messages(), m => m.Contains(email.Id.ToString(), StringComparison.Ordinal));
        Assert.Contains("X-RcptTo: noc@acme.example", message, StringComparison.Ordinal);
        Assert.Contains("To: noc@acme.example", message, StringComparison.Ordinal);
        Assert.Contains("From: nms@nms.test.example", message, StringComparison.Ordinal);
        Assert.Contains("Subject: [Onboarding] Device NT-MAIL-1 onboarded", message, StringComparison.Ordinal);
        Assert.Contains("Device NT-MAIL-1 was onboarded", message, StringComparison.Ordinal);
        Assert.Contains($"X-Onboarding-Delivery: {email.Id}", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_test_event_goes_to_every_channel()
    {
        await using var receiver = await WebhookReceiver.StartAsync((_, _) => 204);
        var setup = await ManufacturerSetup.CreateAsync(factory, "Testing Telecom");
        var webhook = await NotificationRig.SetWebhookAsync(setup.Customer, receiver.Url);

        var response = await setup.Customer.PostAsync("/api/notifications/test", null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var sent = (await response.Content.ReadFromJsonAsync<TestNotificationSent>())!;
        Assert.Equal(2, sent.Deliveries.Count);
        var items = await NotificationRig.WaitForAsync(setup.Customer, i => i.Count == 2 && i.All(n => n.Status == DeliveryStatus.Delivered));
        Assert.Equal(sent.Deliveries.Order(), items.Select(i => i.Id).Order());
        Assert.All(items, i => Assert.Equal((OwnerEvent.Test, (string?)null), (i.Event, i.SerialNumber)));
        var request = Assert.Single(receiver.Received);
        Assert.True(request.SignatureIsValid(webhook.Secret!));
        Assert.Equal("test", JsonDocument.Parse(request.Body).RootElement.GetProperty("event").GetString());
        Assert.Contains(factory.Smtp.Messages(), m => m.Contains("Subject: [Onboarding] Test notification", StringComparison.Ordinal)
            && m.Contains(items.Single(i => i.Channel == NotificationChannel.Email).Id.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_redelivered_outbox_message_creates_and_sends_nothing_twice()
    {
        await using var receiver = await WebhookReceiver.StartAsync((_, _) => 200);
        var setup = await ManufacturerSetup.CreateAsync(factory, "Twice Telecom");
        await NotificationRig.SetWebhookAsync(setup.Customer, receiver.Url);
        var devices = await NotificationRig.BookkeepAsync(factory.Services, setup, "NT-TWICE-1");
        await NotificationRig.OnboardAsync(factory.Services, devices["NT-TWICE-1"]);
        var items = await NotificationRig.WaitForAsync(setup.Customer, i => i.Count == 2 && i.All(n => n.Status == DeliveryStatus.Delivered));

        // Run the device fact and both deliveries again, as a dispatcher would after a crash before marking them done.
        await using var db = NpgsqlDataSource.Create(factory.ConnectionString);
        var messages = new List<OutboxMessage>();
        await using (var command = db.CreateCommand("""
            SELECT id, type, payload::text FROM outbox.messages
            WHERE (type = @fact AND payload->>'serialNumber' = 'NT-TWICE-1') OR (type = @deliver AND payload->>'deliveryId' = ANY(@deliveries))
            """))
        {
            command.Parameters.AddWithValue("fact", DeviceStateChanged.MessageType);
            command.Parameters.AddWithValue("deliver", DeliverNotification.MessageType);
            command.Parameters.AddWithValue("deliveries", items.Select(i => i.Id.ToString()).ToArray());
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
                messages.Add(new OutboxMessage(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), 2));
        }

        Assert.Equal(3, messages.Count);
        foreach (var message in messages)
        {
            using var scope = factory.Services.CreateScope();
            var handler = message.Type == DeviceStateChanged.MessageType
                ? (IOutboxHandler)scope.ServiceProvider.GetRequiredService<DeviceStateChangedHandler>()
                : scope.ServiceProvider.GetRequiredService<DeliverNotificationHandler>();
            await handler.HandleAsync(message, CancellationToken.None);
        }

        var after = await NotificationRig.ListAsync(setup.Customer);
        Assert.Equal(items.Select(i => (i.Id, i.Attempts.Count)).Order(), after.Select(i => (i.Id, i.Attempts.Count)).Order());
        Assert.Single(receiver.Received);
    }

    [Fact]
    public async Task A_customer_sees_and_receives_only_its_own_notifications()
    {
        await using var receiverA = await WebhookReceiver.StartAsync((_, _) => 200);
        await using var receiverB = await WebhookReceiver.StartAsync((_, _) => 200);
        var a = await ManufacturerSetup.CreateAsync(factory, "Tenant A Telecom");
        var b = await ManufacturerSetup.CreateAsync(factory, "Tenant B Telecom");
        await NotificationRig.SetWebhookAsync(a.Customer, receiverA.Url);
        var devices = await NotificationRig.BookkeepAsync(factory.Services, a, "NT-TENANT-A");

        await NotificationRig.OnboardAsync(factory.Services, devices["NT-TENANT-A"]);
        var itemsA = await NotificationRig.WaitForAsync(a.Customer, i => i.Count == 2 && i.All(n => n.Status == DeliveryStatus.Delivered));

        Assert.Empty(await NotificationRig.ListAsync(b.Customer));
        Assert.Empty(receiverB.Received);
        Assert.Single(receiverA.Received);
        Assert.Equal(HttpStatusCode.NotFound, (await b.Customer.GetAsync("/api/notifications/webhook")).StatusCode);
        Assert.Equal(receiverA.Url, (await a.Customer.GetFromJsonAsync<WebhookView>("/api/notifications/webhook"))!.Url);
        Assert.Null((await a.Customer.GetFromJsonAsync<WebhookView>("/api/notifications/webhook"))!.Secret);
        Assert.Equal(HttpStatusCode.NotFound, (await b.Customer.DeleteAsync("/api/notifications/webhook")).StatusCode);
        using var anonymous = factory.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/notifications")).StatusCode);
        Assert.Equal(2, itemsA.Count);
    }

    [Fact]
    public async Task Removing_the_webhook_ends_its_pending_deliveries_as_dead_with_the_reason()
    {
        // The receiver holds the first attempt until the webhook is gone, so no second attempt can reach it first.
        using var arrived = new ManualResetEventSlim();
        using var removed = new ManualResetEventSlim();
        await using var receiver = await WebhookReceiver.StartAsync((_, _) =>
        {
            arrived.Set();
            removed.Wait(TimeSpan.FromSeconds(50));
            return 503;
        });
        var (customer, _) = await factory.SignUpAsync("Removing Telecom");
        await NotificationRig.SetWebhookAsync(customer, receiver.Url);
        Assert.Equal(HttpStatusCode.Accepted, (await customer.PostAsync("/api/notifications/test", null)).StatusCode);
        Assert.True(arrived.Wait(TimeSpan.FromSeconds(60)), "the first attempt never arrived");

        Assert.Equal(HttpStatusCode.NoContent, (await customer.DeleteAsync("/api/notifications/webhook")).StatusCode);
        removed.Set();

        var items = await NotificationRig.WaitForAsync(customer, i => i.Any(n => n.Channel == NotificationChannel.Webhook && n.Status == DeliveryStatus.Dead));
        var dead = Assert.Single(items, n => n.Channel == NotificationChannel.Webhook);
        Assert.Equal("the customer has removed its webhook", dead.LastError);
        Assert.Equal([(int?)503, null, null], dead.Attempts.Select(a => a.StatusCode));
        Assert.Equal(HttpStatusCode.NotFound, (await customer.GetAsync("/api/notifications/webhook")).StatusCode);
        Assert.Equal(1, receiver.Count(dead.Id.ToString()));
    }

    [Theory]
    [InlineData("ftp://hooks.example/onboarding", "scheme")]
    [InlineData("file:///etc/passwd", "scheme")]
    [InlineData("https://user:secret@hooks.example/onboarding", "credentials")]
    [InlineData("hooks.example/onboarding", "absolute")]
    [InlineData("", "absolute")]
    public async Task A_bad_webhook_url_is_refused_and_the_stored_one_kept(string url, string reason)
    {
        var (customer, _) = await factory.SignUpAsync("Bad Hook Telecom");
        await NotificationRig.SetWebhookAsync(customer, "https://hooks.example/onboarding");

        var response = await customer.PutAsJsonAsync("/api/notifications/webhook", new { url });

        var problem = await Problem.AssertValidationAsync(response, "url");
        Assert.Contains(reason, problem.GetProperty("errors").GetProperty("url")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal("https://hooks.example/onboarding", (await customer.GetFromJsonAsync<WebhookView>("/api/notifications/webhook"))!.Url);
    }
}
