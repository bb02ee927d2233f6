using Npgsql;
using NpgsqlTypes;

namespace Onboarding.ServiceDefaults.Outbox;

/// <summary>The SQL of the outbox table. Times are the database's <c>now()</c>, so hosts with skewed clocks agree.</summary>
internal sealed class OutboxStore(NpgsqlDataSource dataSource)
{
    public const int MaxErrorLength = 2000;

    private const string Returning = "RETURNING m.id, m.type, m.payload::text, m.attempts";

    // The claim commits at once: the row lock of FOR UPDATE SKIP LOCKED only keeps two claimers apart, the lease
    // (locked_until) then keeps other hosts away while the handler runs without holding a transaction open.
    private const string Claim = """
        UPDATE outbox.messages m
        SET attempts = m.attempts + 1, last_attempt_at = now(), locked_until = now() + @lease, lease_token = @token, locked_by = @host
        FROM (SELECT id FROM outbox.messages
              WHERE state = 'pending' AND due_at <= now() AND (locked_until IS NULL OR locked_until < now())
                AND attempts < @max_attempts AND type = ANY(@types)
              ORDER BY due_at
              LIMIT @batch
              FOR UPDATE SKIP LOCKED) c
        WHERE m.id = c.id
        """;

    private const string ClaimById = """
        UPDATE outbox.messages m
        SET attempts = m.attempts + 1, last_attempt_at = now(), locked_until = now() + @lease, lease_token = @token, locked_by = @host
        FROM (SELECT id FROM outbox.messages
              WHERE id = @id AND state = 'pending' AND (locked_until IS NULL OR locked_until < now()) AND attempts < @max_attempts
              FOR UPDATE SKIP LOCKED) c
        WHERE m.id = c.id
        """;

    public static async Task<Guid> InsertAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string type, string payload,
        CancellationToken cancellationToken)
    {
        var id = Guid.CreateVersion7();
        await using var command = new NpgsqlCommand(
            "INSERT INTO outbox.messages (id, type, payload) VALUES (@id, @type, @payload)", connection, transaction);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("type", type);
        command.Parameters.Add(new NpgsqlParameter("payload", NpgsqlDbType.Jsonb) { Value = payload });
        await command.ExecuteNonQueryAsync(cancellationToken);
        return id;
    }

    public async Task<List<ClaimedMessage>> ClaimDueAsync(IReadOnlyCollection<string> types, int batch, Lease lease, int maxAttempts,
        CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"{Claim} {Returning}");
        AddLease(command, lease, maxAttempts);
        command.Parameters.AddWithValue("types", types.ToArray());
        command.Parameters.AddWithValue("batch", batch);
        return await ReadClaimedAsync(command, lease, cancellationToken);
    }

    public async Task<ClaimedMessage?> ClaimByIdAsync(Guid id, Lease lease, int maxAttempts, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"{ClaimById} {Returning}");
        AddLease(command, lease, maxAttempts);
        command.Parameters.AddWithValue("id", id);
        return (await ReadClaimedAsync(command, lease, cancellationToken)).SingleOrDefault();
    }

    /// <summary>Marks a message done; false if our lease was lost (it ran out and another host took the message).</summary>
    public async Task<bool> CompleteAsync(ClaimedMessage message, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE outbox.messages SET state = 'done', done_at = now(), locked_until = NULL, lease_token = NULL
            WHERE id = @id AND lease_token = @token AND state = 'pending'
            """);
        command.Parameters.AddWithValue("id", message.Id);
        command.Parameters.AddWithValue("token", message.LeaseToken);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>Records a failed attempt: due again after <paramref name="retryAfter"/>, or dead after the last attempt.</summary>
    public async Task<string?> FailAsync(ClaimedMessage message, string error, TimeSpan retryAfter, int maxAttempts,
        CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE outbox.messages
            SET last_error = @error, locked_until = NULL, lease_token = NULL, due_at = now() + @retry_after,
                state = CASE WHEN attempts >= @max_attempts THEN 'dead' ELSE 'pending' END
            WHERE id = @id AND lease_token = @token AND state = 'pending'
            RETURNING state
            """);
        command.Parameters.AddWithValue("id", message.Id);
        command.Parameters.AddWithValue("token", message.LeaseToken);
        command.Parameters.AddWithValue("error", Truncate(error));
        command.Parameters.AddWithValue("retry_after", retryAfter);
        command.Parameters.AddWithValue("max_attempts", maxAttempts);
        return (string?)await command.ExecuteScalarAsync(cancellationToken);
    }

    /// <summary>
    /// Dead-letters messages whose last allowed attempt was claimed by a host that never finished it (it died, or its
    /// handler outlived the lease): nobody else would ever claim them again.
    /// </summary>
    public async Task<int> BuryAbandonedAsync(int maxAttempts, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE outbox.messages
            SET state = 'dead', lease_token = NULL,
                last_error = left(coalesce(last_error || '; ', '') || 'attempt ' || attempts || ' on ' || coalesce(locked_by, '?')
                    || ' never finished (its lease ran out)', @max_error)
            WHERE state = 'pending' AND attempts >= @max_attempts AND locked_until < now()
            """);
        command.Parameters.AddWithValue("max_attempts", maxAttempts);
        command.Parameters.AddWithValue("max_error", MaxErrorLength);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<int> PruneDoneAsync(TimeSpan retain, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM outbox.messages WHERE state = 'done' AND done_at < now() - @retain");
        command.Parameters.AddWithValue("retain", retain);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<OutboxStatus> ReadStatusAsync(int deadLetterLimit, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        long backlog, due, dead;
        double? oldestDueSeconds;
        await using (var command = new NpgsqlCommand("""
            SELECT count(*) FILTER (WHERE state = 'pending'),
                   count(*) FILTER (WHERE state = 'pending' AND due_at <= now()),
                   extract(epoch FROM now() - min(due_at) FILTER (WHERE state = 'pending' AND due_at <= now()))::float8,
                   count(*) FILTER (WHERE state = 'dead')
            FROM outbox.messages WHERE state <> 'done'
            """, connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            backlog = reader.GetInt64(0);
            due = reader.GetInt64(1);
            oldestDueSeconds = reader.IsDBNull(2) ? null : reader.GetDouble(2);
            dead = reader.GetInt64(3);
        }

        OutboxError? lastError = null;
        await using (var command = new NpgsqlCommand("""
            SELECT id, type, state, attempts, last_attempt_at, last_error FROM outbox.messages
            WHERE last_error IS NOT NULL ORDER BY last_attempt_at DESC LIMIT 1
            """, connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken))
                lastError = ReadError(reader);
        }

        var deadLetters = new List<OutboxDeadLetter>();
        await using (var command = new NpgsqlCommand("""
            SELECT id, type, state, attempts, last_attempt_at, last_error, created_at, payload::text FROM outbox.messages
            WHERE state = 'dead' ORDER BY last_attempt_at DESC LIMIT @limit
            """, connection))
        {
            command.Parameters.AddWithValue("limit", deadLetterLimit);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                deadLetters.Add(new OutboxDeadLetter(ReadError(reader), reader.GetFieldValue<DateTimeOffset>(6), reader.GetString(7)));
        }

        return new OutboxStatus(backlog, due, oldestDueSeconds is { } s ? TimeSpan.FromSeconds(s) : null, dead, lastError, deadLetters);
    }

    private static OutboxError ReadError(NpgsqlDataReader reader) => new(
        reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3),
        reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4), reader.GetString(5));

    private static void AddLease(NpgsqlCommand command, Lease lease, int maxAttempts)
    {
        command.Parameters.AddWithValue("lease", lease.Duration);
        command.Parameters.AddWithValue("token", lease.Token);
        command.Parameters.AddWithValue("host", lease.Host);
        command.Parameters.AddWithValue("max_attempts", maxAttempts);
    }

    private static async Task<List<ClaimedMessage>> ReadClaimedAsync(NpgsqlCommand command, Lease lease, CancellationToken cancellationToken)
    {
        var claimed = new List<ClaimedMessage>();
        var claimedAt = Environment.TickCount64;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            claimed.Add(new ClaimedMessage(new OutboxMessage(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3)), lease.Token, claimedAt));
        return claimed;
    }

    public static string Truncate(string error) => error.Length <= MaxErrorLength ? error : error[..MaxErrorLength];
}

/// <summary>One claim: every message claimed together shares the token, and only its holder may finish them.</summary>
internal sealed record Lease(Guid Token, TimeSpan Duration, string Host);

/// <param name="ClaimedAt">Environment.TickCount64 when claimed: the lease runs from then, not from when the handler starts.</param>
internal sealed record ClaimedMessage(OutboxMessage Message, Guid LeaseToken, long ClaimedAt)
{
    public Guid Id => Message.Id;
}
