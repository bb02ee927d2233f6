using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Onboarding.Accounts.Contracts;
using Onboarding.Notifications.Channels;
using Onboarding.Notifications.Contracts;
using Onboarding.Notifications.Data;
using Onboarding.ServiceDefaults.Database;
using Onboarding.ServiceDefaults.Outbox;

namespace Onboarding.Notifications.Sending;

/// <summary>
/// Turns one owner event into one delivery per channel the customer has (webhook, e-mail), each with its own outbox
/// message, in one transaction. The unique key (source message, channel) makes it idempotent: a redelivered outbox
/// message, or a second run after a crash, creates nothing twice.
/// </summary>
internal sealed class DeliveryPlanner(
    NotificationsDbContext db,
    ICustomerDirectory customers,
    EmailSender email,
    IOutbox outbox,
    TimeProvider clock,
    ILogger<DeliveryPlanner> logger)
{
    /// <summary>The channels the customer has now: (channel, target).</summary>
    public async Task<List<(NotificationChannel Channel, string Target)>> ChannelsAsync(Guid customerId, CancellationToken cancellationToken)
    {
        var channels = new List<(NotificationChannel, string)>();
        var webhook = await db.Webhooks.AsNoTracking().Where(w => w.CustomerId == customerId).Select(w => w.Url).SingleOrDefaultAsync(cancellationToken);
        if (webhook is not null)
            channels.Add((NotificationChannel.Webhook, webhook));
        if (email.Enabled && await customers.GetContactAsync(customerId, cancellationToken) is { } contact)
            channels.Add((NotificationChannel.Email, contact.ContactEmail));
        return channels;
    }

    /// <summary>Creates the deliveries of one event (those not created before) and their outbox messages; returns the new deliveries' ids.</summary>
    public async Task<List<Guid>> PlanAsync(Guid sourceMessageId, Guid customerId, Func<Guid, OwnerEvent> ownerEvent, CancellationToken cancellationToken)
    {
        var channels = await ChannelsAsync(customerId, cancellationToken);
        var created = new List<Guid>();
        if (channels.Count == 0)
        {
            logger.LogDebug("Customer {CustomerId} has no notification channel; event {SourceMessageId} is not sent", customerId, sourceMessageId);
            return created;
        }

        var now = clock.GetUtcNow().ToPostgresPrecision();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        foreach (var (channel, target) in channels)
        {
            var id = Guid.CreateVersion7();
            var body = ownerEvent(id);
            var channelName = channel.ToString();
            var status = nameof(DeliveryStatus.Pending);
            var inserted = await db.Database.ExecuteSqlAsync($"""
                INSERT INTO notifications.deliveries
                    (id, customer_id, source_message_id, channel, event, device_id, serial_number, target, body, status, attempts, created_at)
                VALUES ({id}, {customerId}, {sourceMessageId}, {channelName}, {body.Event}, {body.Device?.Id}, {body.Device?.SerialNumber},
                        {target}, {body.ToJson()}, {status}, 0, {now})
                ON CONFLICT (source_message_id, channel) DO NOTHING
                """, cancellationToken);
            if (inserted == 0)
                continue; // made by an earlier run of the same message
            await outbox.EnqueueAsync(db, DeliverNotification.MessageType, new DeliverNotification(id), cancellationToken);
            created.Add(id);
        }

        await transaction.CommitAsync(cancellationToken);
        if (created.Count > 0)
            logger.LogInformation("Event {SourceMessageId} for customer {CustomerId}: {Count} deliveries created", sourceMessageId, customerId, created.Count);
        return created;
    }
}
