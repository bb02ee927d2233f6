using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.Notifications;
using Onboarding.Notifications.Channels;
using Onboarding.Notifications.Contracts;
using Onboarding.Notifications.Data;
using Onboarding.ServiceDefaults.Outbox;

namespace Onboarding.IntegrationTests;

/// <summary>The host with production webhook rules: https only, no private addresses, no SMTP relay.</summary>
public sealed class GuardedNotificationsFactory : OnboardingFactory
{
    public GuardedNotificationsFactory()
    {
        With("Notifications:MaxAttempts", "1");
        With("Outbox:PollInterval", "00:00:00.100");
    }
}

/// <summary>What keeps a customer's webhook from reaching the NMS's own network (SSRF), and the refusals around it.</summary>
public class NotificationGuardTests(GuardedNotificationsFactory factory) : IClassFixture<GuardedNotificationsFactory>
{
    [Theory]
    [InlineData("http://hooks.example/onboarding", "scheme must be https")]
    [InlineData("https://127.0.0.1/onboarding", "public address")]
    [InlineData("https://localhost:8443/onboarding", "public address")]
    [InlineData("https://[::1]/onboarding", "public address")]
    [InlineData("https://169.254.169.254/latest/meta-data", "public address")]
    [InlineData("https://10.1.2.3/onboarding", "public address")]
    [InlineData("https://[fd00::1]/onboarding", "public address")]
    public async Task A_webhook_to_plain_http_or_a_private_address_is_refused(string url, string reason)
    {
        var (customer, _) = await factory.SignUpAsync("Guarded Telecom");

        var problem = await Problem.AssertValidationAsync(await customer.PutAsJsonAsync("/api/notifications/webhook", new { url }), "url");

        Assert.Contains(reason, problem.GetProperty("errors").GetProperty("url")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await customer.GetAsync("/api/notifications/webhook")).StatusCode);
    }

    [Fact]
    public async Task A_test_event_without_any_channel_is_a_conflict()
    {
        var (customer, _) = await factory.SignUpAsync("Channelless Telecom");

        await Problem.AssertAsync(await customer.PostAsync("/api/notifications/test", null), HttpStatusCode.Conflict);

        Assert.Empty(await NotificationRig.ListAsync(customer));
    }

    [Fact]
    public async Task A_webhook_whose_host_turns_private_is_refused_when_connecting()
    {
        // As if the name had resolved to a public address at PUT time and to loopback now (DNS rebinding): the stored URL
        // points at a live receiver on 127.0.0.1, which must never see the request.
        await using var receiver = await WebhookReceiver.StartAsync((_, _) => 200);
        var (customer, profile) = await factory.SignUpAsync("Rebinding Telecom");
        using (var scope = factory.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<NotificationsDbContext>();
            db.Webhooks.Add(new Webhook
            {
                CustomerId = profile.Id, Url = receiver.Url, CreatedAt = DateTimeOffset.UtcNow,
                ProtectedSecret = scope.ServiceProvider.GetRequiredService<WebhookSecrets>().Protect(WebhookSecrets.Generate()),
            });
            await db.SaveChangesAsync();
        }

        Assert.Equal(HttpStatusCode.Accepted, (await customer.PostAsync("/api/notifications/test", null)).StatusCode);

        var items = await NotificationRig.WaitForAsync(customer, i => i.Count == 1 && i[0].Status == DeliveryStatus.Dead);
        Assert.StartsWith("refused: 127.0.0.1 resolves only to non-public addresses", items[0].LastError, StringComparison.Ordinal);
        Assert.Null(items[0].Attempts.Single().StatusCode);
        Assert.Empty(receiver.Received);
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("10.0.0.1", true)]
    [InlineData("172.16.0.1", true)]
    [InlineData("172.32.0.1", false)]
    [InlineData("192.168.1.1", true)]
    [InlineData("169.254.169.254", true)]
    [InlineData("100.64.0.1", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("224.0.0.1", true)]
    [InlineData("::1", true)]
    [InlineData("fe80::1", true)]
    [InlineData("fd12:3456::1", true)]
    [InlineData("::ffff:10.0.0.1", true)]
    [InlineData("93.184.215.14", false)]
    [InlineData("2606:2800:21f:cb07:6820:80da:af6b:8b2c", false)]
    public void Non_public_addresses_are_recognised(string address, bool nonPublic) =>
        Assert.Equal(nonPublic, WebhookAddresses.IsNonPublic(IPAddress.Parse(address)));

    [Fact]
    public void MaxAttempts_must_leave_the_outbox_room_to_finish_the_delivery()
    {
        var validator = new NotificationsOptionsValidator(Options.Create(new OutboxOptions { MaxAttempts = 10 }));

        Assert.True(validator.Validate(null, new NotificationsOptions { MaxAttempts = 9 }).Succeeded);
        var refused = validator.Validate(null, new NotificationsOptions { MaxAttempts = 10 });
        Assert.Contains("Notifications:MaxAttempts", refused.FailureMessage, StringComparison.Ordinal);
        var smtp = validator.Validate(null, new NotificationsOptions { Smtp = new SmtpOptions { Host = "smtp.example", From = null } });
        Assert.Contains("Notifications:Smtp:From", smtp.FailureMessage, StringComparison.Ordinal);
    }
}
