using Microsoft.Extensions.Logging;
using Npgsql;

namespace Onboarding.ServiceDefaults.Database;

/// <summary>
/// Applies every module's pending migrations in one place. Hosts that start together serialise on a
/// PostgreSQL advisory lock, so exactly one applies each script and the others find it done.
/// Nothing here has a command timeout: a script that rewrites a large table takes as long as it takes, and a host
/// waiting for the lock waits for it. Only the cancellation token (host shutdown) stops them.
/// </summary>
public sealed class MigrationRunner(NpgsqlDataSource dataSource, IEnumerable<ModuleMigrations> modules, ILogger<MigrationRunner> logger)
{
    // An arbitrary, fixed 64-bit key: "ONBOARD" in ASCII. Every host must use the same one.
    private const long AdvisoryLockKey = 0x4F4E424F415244;

    public async Task<int> MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await ExecuteAsync(connection, null, "SELECT pg_advisory_lock(@key)", cancellationToken, ("key", AdvisoryLockKey));
        try
        {
            await ExecuteAsync(connection, null, """
                CREATE SCHEMA IF NOT EXISTS platform;
                CREATE TABLE IF NOT EXISTS platform.schema_migrations (
                    module     text        NOT NULL,
                    version    integer     NOT NULL,
                    name       text        NOT NULL,
                    checksum   text        NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (module, version));
                """, cancellationToken);

            var applied = 0;
            foreach (var module in modules)
                applied += await MigrateModuleAsync(connection, module, cancellationToken);
            return applied;
        }
        finally
        {
            await ExecuteAsync(connection, null, "SELECT pg_advisory_unlock(@key)", CancellationToken.None, ("key", AdvisoryLockKey));
        }
    }

    private async Task<int> MigrateModuleAsync(NpgsqlConnection connection, ModuleMigrations module, CancellationToken cancellationToken)
    {
        var done = new Dictionary<int, string>();
        await using (var command = new NpgsqlCommand("SELECT version, checksum FROM platform.schema_migrations WHERE module = @module", connection) { CommandTimeout = 0 })
        {
            command.Parameters.AddWithValue("module", module.Module);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                done[reader.GetInt32(0)] = reader.GetString(1);
        }

        var applied = 0;
        foreach (var script in module.Scripts)
        {
            if (done.TryGetValue(script.Version, out var checksum))
            {
                // An applied migration is history: editing it would leave databases that disagree.
                if (checksum != script.Checksum)
                {
                    throw new InvalidOperationException(
                        $"Migration {module.Module} {script.Version:D4}_{script.Name} was changed after it was applied; add a new migration instead.");
                }

                continue;
            }

            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await ExecuteAsync(connection, transaction, script.Sql, cancellationToken);
            await ExecuteAsync(connection, transaction,
                "INSERT INTO platform.schema_migrations (module, version, name, checksum) VALUES (@module, @version, @name, @checksum)",
                cancellationToken, ("module", module.Module), ("version", script.Version), ("name", script.Name), ("checksum", script.Checksum));
            await transaction.CommitAsync(cancellationToken);
            logger.LogInformation("Applied migration {Module} {Version:D4}_{Name}", module.Module, script.Version, script.Name);
            applied++;
        }

        return applied;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql,
        CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = 0 };
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
