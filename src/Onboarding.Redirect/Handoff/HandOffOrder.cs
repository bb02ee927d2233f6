using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Onboarding.Redirect.Data;
using Onboarding.Redirect.Orders;
using Onboarding.Redirect.Profiles;
using Onboarding.ServiceDefaults.Database;
using Onboarding.ServiceDefaults.Outbox;

namespace Onboarding.Redirect.Handoff;

/// <summary>
/// Outbox message "hand off order X": upload the device record to the order's NMS, then mark the order HandedOff.
/// Written with the order's Authenticated step, so an authenticated device is never forgotten. The certificate is the
/// one the device presented (public; no secret in the payload).
/// </summary>
internal sealed record HandOffOrder(Guid OrderId, string CertificatePem, string Model)
{
    public const string MessageType = "redirect.hand-off-order";
}

/// <summary>
/// Idempotent: an order no longer Authenticated (already handed off, redirected or cancelled) is skipped, and a record the
/// NMS already holds is "unchanged" there, so a second run changes nothing visible.
/// </summary>
internal sealed class HandOffOrderHandler(RedirectDbContext db, NmsHandoffBatcher batcher, ProfileSecrets secrets, TimeProvider clock,
    ILogger<HandOffOrderHandler> logger) : IOutboxHandler
{
    /// <summary>How a refusal by the NMS starts in the order's timeline.</summary>
    public const string RejectedPrefix = "the NMS refused the device record: ";

    public async Task HandleAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        var handOff = message.Read<HandOffOrder>();
        var order = await db.Orders.AsNoTracking().SingleOrDefaultAsync(o => o.Id == handOff.OrderId, cancellationToken);
        if (order is null || order.State != OrderState.Authenticated)
        {
            logger.LogInformation("Hand-off of order {OrderId} skipped: it is {State}", handOff.OrderId, order?.State.ToString() ?? "gone");
            return;
        }

        using var scope = logger.BeginScope(new Dictionary<string, object> { ["Serial"] = order.SerialNumber, ["ManufacturerId"] = order.ManufacturerId });
        var profile = await db.NmsProfiles.AsNoTracking().Include(p => p.HostKeys).SingleAsync(p => p.Id == order.NmsProfileId, cancellationToken);
        var manufacturer = await db.Manufacturers.AsNoTracking().Where(m => m.Id == order.ManufacturerId).Select(m => m.Name).SingleAsync(cancellationToken);
        var target = new HandoffTarget(profile.Id, profile.ManufacturerId, profile.SftpHost, profile.SftpPort, profile.SftpUsername, profile.CredentialMode,
            profile.ProtectedPassphrase is { } passphrase ? secrets.UnprotectPassphrase(passphrase) : null,
            profile.ProtectedClientKey is { } key ? secrets.UnprotectClientKey(key) : null,
            [.. profile.HostKeys.Select(k => k.Fingerprint)]);
        var record = new DeviceRecordEntry(order.SerialNumber, profile.CustomerId, manufacturer, handOff.Model, handOff.CertificatePem, order.Id);

        try
        {
            await batcher.HandOffAsync(target, record, cancellationToken);
        }
        catch (NmsRejectedException ex)
        {
            // A definite answer, not an outage: retrying the same record changes nothing until the customer or the
            // manufacturer fixes something, and the device asks again anyway. Kept in the order's timeline.
            await using var rejected = await db.Database.BeginTransactionAsync(CancellationToken.None);
            var current = await db.Orders.FromSqlInterpolated($"SELECT * FROM redirect.orders WHERE id = {order.Id} FOR UPDATE").SingleAsync(CancellationToken.None);
            OrderTimeline.Note(db, current, clock.GetUtcNow().ToPostgresPrecision(), $"{RejectedPrefix}{ex.Message}");
            await db.SaveChangesAsync(CancellationToken.None);
            await rejected.CommitAsync(CancellationToken.None);
            logger.LogWarning("Order {OrderId}: the NMS at {Target} refused the device record: {Reason}", order.Id, target, ex.Message);
            return;
        }

        // Bookkept at the NMS: from here on the order is HandedOff even if the device never asks again.
        await using var transaction = await db.Database.BeginTransactionAsync(CancellationToken.None);
        var locked = await db.Orders.FromSqlInterpolated($"SELECT * FROM redirect.orders WHERE id = {order.Id} FOR UPDATE").SingleAsync(CancellationToken.None);
        if (locked.State == OrderState.Authenticated)
        {
            OrderTimeline.Apply(db, locked, OrderState.HandedOff, clock.GetUtcNow().ToPostgresPrecision(), $"bookkept by the NMS at {target}");
            await db.SaveChangesAsync(CancellationToken.None);
        }

        await transaction.CommitAsync(CancellationToken.None);
        logger.LogInformation("Order {OrderId} handed off to {Target}", order.Id, target);
    }
}
