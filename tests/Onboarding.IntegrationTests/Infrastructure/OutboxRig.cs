using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Onboarding.ServiceDefaults.Outbox;

namespace Onboarding.IntegrationTests.Infrastructure;

/// <summary>
/// An outbox (store, handlers, dispatcher) wired by hand on a real database, as one host would wire it, with a
/// scripted handler for one message type of the test's own: several rigs on one database are several hosts.
/// </summary>
internal sealed class OutboxRig : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    public OutboxRig(string connectionString, string type, Func<OutboxMessage, CancellationToken, Task> handle, OutboxOptions? options = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(NpgsqlDataSource.Create(connectionString));
        services.AddSingleton(Options.Create(options ?? new OutboxOptions()));
        services.AddSingleton<OutboxStore>();
        services.AddSingleton<OutboxHandlers>();
        services.AddSingleton<TransactionalOutbox>();
        services.AddSingleton<OutboxDispatcher>();
        services.AddSingleton(new ScriptedHandler.Script(handle));
        services.AddOutboxHandler<ScriptedHandler>(type);
        _services = services.BuildServiceProvider();
    }

    public TransactionalOutbox Outbox => _services.GetRequiredService<TransactionalOutbox>();

    public OutboxDispatcher Dispatcher => _services.GetRequiredService<OutboxDispatcher>();

    public OutboxStore Store => _services.GetRequiredService<OutboxStore>();

    public NpgsqlDataSource DataSource => _services.GetRequiredService<NpgsqlDataSource>();

    /// <summary>Enqueues in a transaction of its own and commits it.</summary>
    public async Task<Guid> EnqueueCommittedAsync(string type, object payload)
    {
        await using var connection = await DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var id = await Outbox.EnqueueAsync(connection, transaction, type, payload, CancellationToken.None);
        await transaction.CommitAsync();
        return id;
    }

    public async Task<MessageRow?> ReadAsync(Guid id)
    {
        await using var command = DataSource.CreateCommand("""
            SELECT state, attempts, last_error, extract(epoch FROM due_at - last_attempt_at)::float8, locked_by FROM outbox.messages WHERE id = @id
            """);
        command.Parameters.AddWithValue("id", id);
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
            return null;
        return new MessageRow(reader.GetString(0), reader.GetInt32(1), reader.IsDBNull(2) ? null : reader.GetString(2),
            reader.IsDBNull(3) ? null : TimeSpan.FromSeconds(reader.GetDouble(3)), reader.IsDBNull(4) ? null : reader.GetString(4));
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
    }

    /// <param name="RetryAfter">due_at − last_attempt_at: the back-off chosen after the last failure.</param>
    public sealed record MessageRow(string State, int Attempts, string? LastError, TimeSpan? RetryAfter, string? LockedBy);
}

internal sealed class ScriptedHandler(ScriptedHandler.Script script) : IOutboxHandler
{
    public sealed record Script(Func<OutboxMessage, CancellationToken, Task> Handle);

    public Task HandleAsync(OutboxMessage message, CancellationToken cancellationToken) => script.Handle(message, cancellationToken);
}

/// <summary>Counts deliveries per message and the most that ever ran at the same time.</summary>
internal sealed class DeliveryLog
{
    private readonly ConcurrentDictionary<Guid, int> _deliveries = new();
    private readonly ConcurrentDictionary<Guid, int> _running = new();
    private int _maxConcurrentPerMessage;

    public int MaxConcurrentPerMessage => _maxConcurrentPerMessage;

    public int Deliveries(Guid id) => _deliveries.GetValueOrDefault(id);

    public async Task RecordAsync(OutboxMessage message, TimeSpan work)
    {
        _deliveries.AddOrUpdate(message.Id, 1, (_, n) => n + 1);
        var running = _running.AddOrUpdate(message.Id, 1, (_, n) => n + 1);
        InterlockedMax(ref _maxConcurrentPerMessage, running);
        await Task.Delay(work);
        _running.AddOrUpdate(message.Id, 0, (_, n) => n - 1);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
