using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Onboarding.Accounts.Contracts;
using Onboarding.Accounts.Data;
using Onboarding.ServiceDefaults.Outbox;

namespace Onboarding.Accounts.Access;

/// <summary>
/// Disables a manufacturer's SFTP access when the customer asked for it (<c>disableWhenAllDevicesOnboarded</c>) and
/// the last of its devices is onboarded. The manufacturer row is locked while deciding, so concurrent reviews (two
/// last devices at once) disable it once; a review of an already disabled manufacturer changes nothing, so a
/// redelivered message is harmless. The step's own transaction committed before this runs, so the last review always
/// sees every device onboarded.
/// </summary>
internal sealed class ManufacturerAccessReviewHandler(
    AccountsDbContext db,
    IManufacturerDeviceCounts counts,
    TimeProvider clock,
    ILogger<ManufacturerAccessReviewHandler> logger) : IOutboxHandler
{
    public async Task HandleAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        var review = message.Read<ManufacturerAccessReview>();
        // Every onboarded device brings a review, and nearly every manufacturer has the policy off: decide that without
        // the row lock, which a burst of reviews for one manufacturer would otherwise queue on (52 ms of waiting per
        // review, each holding a pooled connection, in bench/README.md's onboard run). The policy is read again under it.
        var policy = await db.Manufacturers.AsNoTracking().Where(m => m.Id == review.ManufacturerId)
            .Select(m => new { m.Enabled, m.DisableWhenAllDevicesOnboarded }).SingleOrDefaultAsync(cancellationToken);
        if (policy is not { Enabled: true, DisableWhenAllDevicesOnboarded: true })
            return;

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var manufacturer = await db.Manufacturers
            .FromSql($"SELECT * FROM accounts.manufacturers WHERE id = {review.ManufacturerId} FOR UPDATE")
            .SingleOrDefaultAsync(cancellationToken);
        if (manufacturer is null || !manufacturer.Enabled || !manufacturer.DisableWhenAllDevicesOnboarded)
            return;

        var count = await counts.CountAsync(manufacturer.CustomerId, manufacturer.Id, cancellationToken);
        if (count.Onboarded == 0 || count.Outstanding > 0)
            return;

        manufacturer.Enabled = false;
        manufacturer.DisabledAt = clock.GetUtcNow();
        manufacturer.DisabledReason = $"disabled automatically: all {count.Onboarded} of its devices are onboarded"
            + (count.Rejected > 0 ? $" ({count.Rejected} rejected)" : "") + $"; the last was {review.DeviceId}";
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Manufacturer {ManufacturerId} of customer {CustomerId} {Reason}", manufacturer.Id, manufacturer.CustomerId, manufacturer.DisabledReason);
    }
}
