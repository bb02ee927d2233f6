namespace Onboarding.ServiceDefaults.Outbox;

/// <summary>What the outbox is doing, for operators: <c>GET /api/operations/outbox</c> and the health check.</summary>
/// <param name="Backlog">Pending messages, due or waiting for a retry.</param>
/// <param name="Due">Pending messages whose time has come.</param>
/// <param name="OldestDueAge">How long the oldest due message has waited; null when nothing is due.</param>
/// <param name="LastError">The most recent failure of any message (it may have succeeded since).</param>
/// <param name="RecentDeadLetters">The latest dead letters, newest first.</param>
public sealed record OutboxStatus(long Backlog, long Due, TimeSpan? OldestDueAge, long DeadLetters, OutboxError? LastError,
    IReadOnlyList<OutboxDeadLetter> RecentDeadLetters);

public sealed record OutboxError(Guid MessageId, string Type, string State, int Attempts, DateTimeOffset? At, string Error);

public sealed record OutboxDeadLetter(OutboxError Failure, DateTimeOffset CreatedAt, string Payload);
