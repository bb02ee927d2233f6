using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Onboarding.ServiceDefaults.Outbox;

/// <summary>
/// The safety net behind inline processing: claims due messages of the types this host handles and runs them, so a
/// message whose host died, or whose handler failed, is still finished. Several hosts may run one each.
/// </summary>
internal sealed class OutboxDispatcher(
    OutboxStore store,
    OutboxHandlers handlers,
    TransactionalOutbox outbox,
    IOptions<OutboxOptions> options,
    ILogger<OutboxDispatcher> logger) : BackgroundService
{
    private static readonly TimeSpan HousekeepingInterval = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.DispatcherEnabled || handlers.Types.Count == 0)
            return;
        // Let start-up (migrations, the listeners) finish before the first query.
        await Task.Yield();
        var nextHousekeeping = DateTimeOffset.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            int claimed;
            try
            {
                if (DateTimeOffset.UtcNow >= nextHousekeeping)
                {
                    await HousekeepAsync(settings, stoppingToken);
                    nextHousekeeping = DateTimeOffset.UtcNow + HousekeepingInterval;
                }

                claimed = await DispatchOnceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                // The database is away: the messages are safe in it, so wait and look again.
                logger.LogWarning(ex, "Outbox dispatcher could not reach the database; retrying in {PollInterval}", settings.PollInterval);
                claimed = 0;
            }

            // A full batch suggests more is waiting: look again at once rather than after the poll interval.
            if (claimed < settings.BatchSize)
            {
                try
                {
                    await Task.Delay(settings.PollInterval, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>
    /// Claims one batch of due messages and runs them side by side (each in its own scope), so a handler that waits for
    /// others (the redirect server's hand-off collects a window of records into one SFTP file) is not held to one
    /// message per wait; returns how many were claimed.
    /// </summary>
    public async Task<int> DispatchOnceAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var batch = await store.ClaimDueAsync(handlers.Types, settings.BatchSize, TransactionalOutbox.NewLease(settings), settings.MaxAttempts, cancellationToken);
        await Task.WhenAll(batch.Select(message => outbox.RunAsync(message, cancellationToken)));
        return batch.Count;
    }

    private async Task HousekeepAsync(OutboxOptions settings, CancellationToken cancellationToken)
    {
        var buried = await store.BuryAbandonedAsync(settings.MaxAttempts, cancellationToken);
        if (buried > 0)
            logger.LogError("Outbox: {Count} messages dead-lettered because their last attempt never finished", buried);
        await store.PruneDoneAsync(settings.RetainDone, cancellationToken);
    }
}
