using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Onboarding.ServiceDefaults.Outbox;

/// <summary>
/// Enqueues in the caller's transaction and runs claimed messages through their handler: the one place that decides
/// what a success, a failure and a lost lease mean, shared by the dispatcher and inline processing.
/// </summary>
internal sealed class TransactionalOutbox(
    OutboxStore store,
    OutboxHandlers handlers,
    IServiceScopeFactory scopes,
    IOptions<OutboxOptions> options,
    ILogger<TransactionalOutbox> logger) : IOutbox
{
    public const int MaxTypeLength = 200;

    /// <summary>Identifies this process in <c>locked_by</c>, so an operator sees which host held a message.</summary>
    public static readonly string HostId = $"{Environment.MachineName}:{Environment.ProcessId}";

    public Task<Guid> EnqueueAsync(DbContext db, string type, object payload, CancellationToken cancellationToken)
    {
        // Without the caller's transaction the message could outlive a rolled-back change, or be lost with a committed one.
        var transaction = db.Database.CurrentTransaction?.GetDbTransaction() as NpgsqlTransaction
            ?? throw new InvalidOperationException(
                "Outbox messages are written in the caller's transaction: call Database.BeginTransactionAsync() before EnqueueAsync.");
        return EnqueueAsync((NpgsqlConnection)db.Database.GetDbConnection(), transaction, type, payload, cancellationToken);
    }

    public Task<Guid> EnqueueAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string type, object payload,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(payload);
        if (string.IsNullOrWhiteSpace(type) || type.Length > MaxTypeLength)
            throw new ArgumentException($"An outbox message type is 1 to {MaxTypeLength} characters.", nameof(type));
        if (transaction.Connection != connection)
            throw new ArgumentException("The transaction does not belong to this connection.", nameof(transaction));
        return OutboxStore.InsertAsync(connection, transaction, type, JsonSerializer.Serialize(payload, payload.GetType(), OutboxMessage.Json),
            cancellationToken);
    }

    public async Task<OutboxRun> ProcessNowAsync(Guid messageId, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var claimed = await store.ClaimByIdAsync(messageId, NewLease(settings), settings.MaxAttempts, cancellationToken);
        return claimed is null ? new OutboxRun(OutboxRunResult.NotClaimed) : await RunAsync(claimed, cancellationToken);
    }

    public static Lease NewLease(OutboxOptions settings) => new(Guid.NewGuid(), settings.LeaseDuration, HostId);

    /// <summary>Runs one claimed message; never throws for the handler's failure, which is recorded instead.</summary>
    public async Task<OutboxRun> RunAsync(ClaimedMessage claimed, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var message = claimed.Message;
        // Stop the handler when the lease runs out: past that point another host may already run the same message.
        using var leaseTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var leaseLeft = settings.LeaseDuration - TimeSpan.FromMilliseconds(Environment.TickCount64 - claimed.ClaimedAt);
        leaseTimeout.CancelAfter(leaseLeft > TimeSpan.Zero ? leaseLeft : TimeSpan.Zero);
        string error;
        Exception? exception = null;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var handler = handlers.Resolve(scope.ServiceProvider, message.Type);
            if (handler is null)
            {
                error = $"no handler for message type '{message.Type}' on this host";
            }
            else
            {
                await handler.HandleAsync(message, leaseTimeout.Token);
                if (!await store.CompleteAsync(claimed, CancellationToken.None))
                    logger.LogWarning("Outbox message {MessageId} ({Type}) finished after its lease ran out; another host may have run it too", message.Id, message.Type);
                logger.LogDebug("Outbox message {MessageId} ({Type}) done on attempt {Attempt}", message.Id, message.Type, message.Attempt);
                return new OutboxRun(OutboxRunResult.Done);
            }
        }
        catch (OperationCanceledException ex) when (leaseTimeout.IsCancellationRequested)
        {
            exception = ex;
            error = cancellationToken.IsCancellationRequested
                ? "cancelled: the host is stopping or the caller went away"
                : $"timed out: the handler outlived the lease ({settings.LeaseDuration})";
        }
        catch (Exception ex)
        {
            exception = ex;
            error = $"{ex.GetType().Name}: {ex.Message}";
        }

        var retryAfter = OutboxBackoff.Delay(message.Attempt, settings, Random.Shared.NextDouble());
        var state = await store.FailAsync(claimed, error, retryAfter, settings.MaxAttempts, CancellationToken.None);
        if (state == "dead")
        {
            logger.LogError(exception, "Outbox message {MessageId} ({Type}) dead-lettered after {Attempts} attempts: {Error}",
                message.Id, message.Type, message.Attempt, error);
        }
        else
        {
            logger.LogWarning(exception, "Outbox message {MessageId} ({Type}) failed attempt {Attempt}: {Error}; next attempt in {RetryAfter}",
                message.Id, message.Type, message.Attempt, error, retryAfter);
        }

        return new OutboxRun(OutboxRunResult.Failed, error);
    }
}
