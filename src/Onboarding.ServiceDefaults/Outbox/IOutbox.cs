using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Onboarding.ServiceDefaults.Outbox;

/// <summary>
/// Writes facts that other work depends on ("bookkeep upload X") in the caller's own transaction, so the fact
/// exists exactly when the change that caused it does, and runs them through the registered handler.
/// </summary>
public interface IOutbox
{
    /// <summary>
    /// Adds a message in <paramref name="db"/>'s current transaction (begin one first): it is committed or rolled back
    /// with the caller's change. The payload is serialised as JSON and must not hold secrets (operators see it).
    /// </summary>
    Task<Guid> EnqueueAsync(DbContext db, string type, object payload, CancellationToken cancellationToken);

    /// <summary>The same, for modules that write with Npgsql directly.</summary>
    Task<Guid> EnqueueAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string type, object payload,
        CancellationToken cancellationToken);

    /// <summary>
    /// Processes a just-committed message now, so a synchronous flow need not wait for the dispatcher. Claims it by id
    /// with SKIP LOCKED: if a dispatcher already holds it (or it is finished) the answer is
    /// <see cref="OutboxRunResult.NotClaimed"/>. A failure is recorded and retried by the dispatcher like any other.
    /// </summary>
    Task<OutboxRun> ProcessNowAsync(Guid messageId, CancellationToken cancellationToken);
}

/// <summary>
/// Acts on one message type. Must be idempotent: after a crash a message can be delivered again, so a handler checks
/// whether its work is already done. Throwing means "try again later"; the dispatcher backs off and eventually
/// dead-letters the message with the exception's message as the reason.
/// </summary>
public interface IOutboxHandler
{
    Task HandleAsync(OutboxMessage message, CancellationToken cancellationToken);
}

/// <param name="Attempt">1 on the first delivery; a crash mid-handler counts as an attempt.</param>
public sealed record OutboxMessage(Guid Id, string Type, string Payload, int Attempt)
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public T Read<T>() => JsonSerializer.Deserialize<T>(Payload, Json)
        ?? throw new InvalidOperationException($"Outbox message {Id} ({Type}) has an empty payload.");
}

public enum OutboxRunResult
{
    /// <summary>The handler ran and the message is done.</summary>
    Done,

    /// <summary>The handler failed; the message will be retried (or was dead-lettered).</summary>
    Failed,

    /// <summary>Someone else holds the message, or it is no longer pending.</summary>
    NotClaimed,
}

public sealed record OutboxRun(OutboxRunResult Result, string? Error = null);
