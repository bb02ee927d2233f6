using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Onboarding.Notifications.Channels;
using Onboarding.Notifications.Contracts;
using Onboarding.Notifications.Data;
using Onboarding.ServiceDefaults.Database;
using Onboarding.ServiceDefaults.Outbox;

namespace Onboarding.Notifications.Sending;

/// <summary>The outbox message that sends one delivery: retried with the outbox's back-off until delivered or dead.</summary>
internal sealed record DeliverNotification(Guid DeliveryId)
{
    public const string MessageType = "notifications.deliver";
}

/// <summary>
/// One attempt of one delivery. Every attempt is recorded with its outcome. A failure throws, so the outbox retries
/// after its back-off (<c>Outbox:BaseDelay</c>·2^(n−1)); at <c>Notifications:MaxAttempts</c> (counting attempts a crash
/// cut short, which the outbox counts too) the delivery is marked dead here, where the customer sees it, and the
/// message ends. A delivery already delivered or dead is left alone, so a redelivered message sends nothing twice; a
/// crash between the receiver's 2xx and our commit can still send it again, which is why it carries its id for dedup.
/// </summary>
internal sealed class DeliverNotificationHandler(
    NotificationsDbContext db,
    WebhookSender webhooks,
    WebhookSecrets secrets,
    EmailSender email,
    IOptions<NotificationsOptions> options,
    TimeProvider clock,
    ILogger<DeliverNotificationHandler> logger) : IOutboxHandler
{
    public async Task HandleAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        var deliveryId = message.Read<DeliverNotification>().DeliveryId;
        var delivery = await db.Deliveries.SingleOrDefaultAsync(d => d.Id == deliveryId, cancellationToken);
        if (delivery is null || delivery.Status != DeliveryStatus.Pending)
            return;

        var outcome = await SendAsync(delivery, cancellationToken);
        var now = clock.GetUtcNow().ToPostgresPrecision();
        delivery.Attempts++;
        delivery.AttemptLog.Add(new DeliveryAttempt
        {
            DeliveryId = delivery.Id, Number = delivery.Attempts, At = now, Succeeded = outcome.Succeeded, StatusCode = outcome.StatusCode,
            Error = outcome.Error is { Length: > 2000 } e ? e[..2000] : outcome.Error,
        });
        var maxAttempts = options.Value.MaxAttempts;
        if (outcome.Succeeded)
        {
            delivery.Status = DeliveryStatus.Delivered;
            delivery.FinishedAt = now;
            delivery.LastError = null;
        }
        else
        {
            delivery.LastError = outcome.Error;
            if (message.Attempt >= maxAttempts)
            {
                delivery.Status = DeliveryStatus.Dead;
                delivery.FinishedAt = now;
            }
        }

        // The outcome is recorded even when the lease ran out meanwhile: the receiver has already seen the attempt.
        await db.SaveChangesAsync(CancellationToken.None);
        switch (delivery.Status)
        {
            case DeliveryStatus.Delivered:
                logger.LogInformation("Notification {DeliveryId} ({Channel}, {Event}) delivered on attempt {Attempt}",
                    delivery.Id, delivery.Channel, delivery.Event, delivery.Attempts);
                break;
            case DeliveryStatus.Dead:
                logger.LogError("Notification {DeliveryId} ({Channel}, {Event}) gave up after {Attempts} attempts: {Error}",
                    delivery.Id, delivery.Channel, delivery.Event, message.Attempt, outcome.Error);
                break;
            default:
                throw new NotificationNotDeliveredException($"{delivery.Channel} attempt {message.Attempt} of {maxAttempts} failed: {outcome.Error}");
        }
    }

    private async Task<DeliveryOutcome> SendAsync(Delivery delivery, CancellationToken cancellationToken)
    {
        if (delivery.Channel == NotificationChannel.Email)
            return await email.SendAsync(delivery.Id, delivery.Target, delivery.Body, cancellationToken);

        // The webhook as configured now: a customer who fixes a wrong URL wants pending deliveries to follow it.
        var webhook = await db.Webhooks.AsNoTracking().SingleOrDefaultAsync(w => w.CustomerId == delivery.CustomerId, cancellationToken);
        if (webhook is null)
            return DeliveryOutcome.Failure(null, "the customer has removed its webhook");
        delivery.Target = webhook.Url;
        return await webhooks.SendAsync(delivery.Id, webhook.Url, secrets.Unprotect(webhook.ProtectedSecret), delivery.Body, cancellationToken);
    }
}

/// <summary>An attempt failed; the outbox retries the message after its back-off.</summary>
internal sealed class NotificationNotDeliveredException(string message) : Exception(message);
