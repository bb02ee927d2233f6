using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.ServiceDefaults.Database;

namespace Onboarding.IntegrationTests;

/// <summary>
/// Hand-written migrations are only trustworthy if something checks them against the EF model: this migrates an
/// empty database and compares, for every module's DbContext, tables, columns (type, nullability), primary keys,
/// foreign keys and indexes with what EF expects.
/// </summary>
public class SchemaTests(OnboardingFactory factory) : IClassFixture<OnboardingFactory>
{
    [Fact]
    public async Task Migrated_schema_equals_the_ef_model()
    {
        var server = await PostgresServer.Instance;
        var connectionString = await server.CreateEmptyDatabaseAsync("schema");
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var applied = await new MigrationRunner(dataSource, factory.Services.GetServices<ModuleMigrations>(), NullLogger<MigrationRunner>.Instance)
            .MigrateAsync(CancellationToken.None);
        Assert.True(applied > 0);

        var expected = new SortedSet<string>(StringComparer.Ordinal);
        var schemas = new HashSet<string>();
        using var scope = factory.Services.CreateScope();
        foreach (var contextType in DbContextTypes())
        {
            var context = (DbContext)scope.ServiceProvider.GetRequiredService(contextType);
            var model = context.GetService<IDesignTimeModel>().Model.GetRelationalModel();
            foreach (var table in model.Tables)
            {
                schemas.Add(table.Schema!);
                Describe(table, expected);
            }
        }

        // Every module's schema takes part, the redirect server's included (Roles default to both).
        Assert.Superset(new HashSet<string> { "accounts", "inventory", "redirect" }, schemas);
        var actual = await DescribeDatabaseAsync(dataSource, schemas);
        Assert.Equal(string.Join('\n', expected), string.Join('\n', actual));
    }

    [Fact]
    public async Task Readings_stored_before_the_device_key_migration_keep_their_metrics_and_their_key()
    {
        var server = await PostgresServer.Instance;
        await using var dataSource = NpgsqlDataSource.Create(await server.CreateEmptyDatabaseAsync("readings0004"));
        var modules = factory.Services.GetServices<ModuleMigrations>().ToList();
        await new MigrationRunner(dataSource, [.. modules.Select(m => m.Module == "telemetry" ? m.Until(3) : m)], NullLogger<MigrationRunner>.Instance)
            .MigrateAsync(CancellationToken.None);
        await using (var before = dataSource.CreateCommand("""
            INSERT INTO telemetry.devices (serial_number, customer_id, device_name, created_at, desired_version)
            VALUES ('SN-A', '00000000-0000-0000-0000-00000000000a', 1000001, now(), 0);
            INSERT INTO telemetry.readings (serial_number, signal_date, customer_id, device_name, latitude, longitude, battery_level, metrics, received_at)
            VALUES ('SN-A', '2026-11-21T10:00:00Z', '00000000-0000-0000-0000-00000000000a', 1000001, 48.1, 11.5, 80, '{"temperature": 21.50, "seq": 7}', now()),
                   ('SN-A', '2026-11-21T10:00:01Z', '00000000-0000-0000-0000-00000000000a', 1000001, 48.1, 11.5, 79, '{}', now());
            """))
            await before.ExecuteNonQueryAsync();

        // Only telemetry 0004: 0005 needs the inventory devices this test has no use for (DeviceIdentityMigrationTests).
        Assert.Equal(1, await new MigrationRunner(dataSource, [.. modules.Select(m => m.Module == "telemetry" ? m.Until(4) : m)], NullLogger<MigrationRunner>.Instance)
            .MigrateAsync(CancellationToken.None));

        await using var after = dataSource.CreateCommand(
            "SELECT device_name, metric_names, metric_values, battery_level FROM telemetry.readings ORDER BY signal_date");
        await using var reader = await after.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(1000001, reader.GetInt64(0));
        Assert.Equal(["seq", "temperature"], reader.GetFieldValue<string[]>(1));
        Assert.Equal([7, 21.5], reader.GetFieldValue<double[]>(2));
        Assert.True(await reader.ReadAsync());
        Assert.Empty(reader.GetFieldValue<string[]>(1));
        Assert.Empty(reader.GetFieldValue<double[]>(2));
        Assert.Equal(79, reader.GetDouble(3));
        Assert.False(await reader.ReadAsync());
        await reader.DisposeAsync();

        // The key still refuses a second reading of the same device at the same time.
        await using var duplicate = dataSource.CreateCommand("""
            INSERT INTO telemetry.readings (device_name, signal_date, customer_id, latitude, longitude, battery_level, metric_names, metric_values, received_at)
            VALUES (1000001, '2026-11-21T10:00:00Z', '00000000-0000-0000-0000-00000000000a', 0, 0, 0, '{}', '{}', now())
            """);
        var refused = await Assert.ThrowsAsync<PostgresException>(() => duplicate.ExecuteNonQueryAsync());
        Assert.Equal(PostgresErrorCodes.UniqueViolation, refused.SqlState);
    }

    [Fact]
    public async Task A_migration_longer_than_the_command_timeout_completes_and_a_host_waiting_for_it_too()
    {
        // A script rewriting a large table (0004 took minutes on 12 M readings) must not die at Npgsql's command timeout,
        // nor may a second host starting meanwhile give up waiting for the lock.
        var server = await PostgresServer.Instance;
        var connectionString = new NpgsqlConnectionStringBuilder(await server.CreateEmptyDatabaseAsync("slow")) { CommandTimeout = 1 }.ConnectionString;
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var slow = new ModuleMigrations("slow", [new MigrationScript(1, "sleep", "SELECT pg_sleep(2.5)", "checksum")]);

        var results = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ =>
            new MigrationRunner(dataSource, [slow], NullLogger<MigrationRunner>.Instance).MigrateAsync(CancellationToken.None)));

        Assert.Equal([0, 1], results.Order());
    }

    [Fact]
    public async Task Migrating_twice_applies_nothing_the_second_time()
    {
        var server = await PostgresServer.Instance;
        await using var dataSource = NpgsqlDataSource.Create(await server.CreateEmptyDatabaseAsync("twice"));
        var runner = new MigrationRunner(dataSource, factory.Services.GetServices<ModuleMigrations>(), NullLogger<MigrationRunner>.Instance);
        Assert.True(await runner.MigrateAsync(CancellationToken.None) > 0);
        Assert.Equal(0, await runner.MigrateAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Hosts_migrating_together_serialise_on_the_advisory_lock()
    {
        var server = await PostgresServer.Instance;
        await using var dataSource = NpgsqlDataSource.Create(await server.CreateEmptyDatabaseAsync("race"));
        var modules = factory.Services.GetServices<ModuleMigrations>().ToList();
        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ =>
            new MigrationRunner(dataSource, modules, NullLogger<MigrationRunner>.Instance).MigrateAsync(CancellationToken.None)));

        Assert.Equal(modules.Sum(m => m.Scripts.Count), results.Sum());
        await using var command = dataSource.CreateCommand("SELECT count(*) FROM platform.schema_migrations");
        Assert.Equal((long)modules.Sum(m => m.Scripts.Count), (long)(await command.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task An_applied_migration_that_was_edited_is_refused()
    {
        var server = await PostgresServer.Instance;
        await using var dataSource = NpgsqlDataSource.Create(await server.CreateEmptyDatabaseAsync("edited"));
        var runner = new MigrationRunner(dataSource, factory.Services.GetServices<ModuleMigrations>(), NullLogger<MigrationRunner>.Instance);
        await runner.MigrateAsync(CancellationToken.None);
        await using (var tamper = dataSource.CreateCommand("UPDATE platform.schema_migrations SET checksum = 'edited' WHERE version = 1"))
            await tamper.ExecuteNonQueryAsync();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => runner.MigrateAsync(CancellationToken.None));
        Assert.Contains("was changed after it was applied", error.Message, StringComparison.Ordinal);
    }

    private static IEnumerable<Type> DbContextTypes() =>
        AppDomain.CurrentDomain.GetAssemblies()
            .Where(a => a.GetName().Name?.StartsWith("Onboarding.", StringComparison.Ordinal) == true)
            .SelectMany(a => a.GetTypes())
            .Where(t => t.IsSubclassOf(typeof(DbContext)) && !t.IsAbstract);

    private static void Describe(ITable table, SortedSet<string> lines)
    {
        var name = $"{table.Schema}.{table.Name}";
        foreach (var column in table.Columns)
            lines.Add($"{name} column {column.Name} {column.StoreType} {(column.IsNullable ? "null" : "not null")}");
        if (table.PrimaryKey is { } pk)
            lines.Add($"{name} primary key {pk.Name} ({string.Join(", ", pk.Columns.Select(c => c.Name))})");
        foreach (var fk in table.ForeignKeyConstraints)
        {
            lines.Add($"{name} foreign key {fk.Name} ({string.Join(", ", fk.Columns.Select(c => c.Name))}) -> "
                + $"{fk.PrincipalTable.Schema}.{fk.PrincipalTable.Name} on delete {fk.OnDeleteAction.ToString().ToLowerInvariant()}");
        }

        foreach (var index in table.Indexes)
            lines.Add($"{name} {(index.IsUnique ? "unique " : "")}index {index.Name} ({string.Join(", ", index.Columns.Select(c => c.Name))})");
    }

    private static async Task<SortedSet<string>> DescribeDatabaseAsync(NpgsqlDataSource dataSource, IEnumerable<string> schemas)
    {
        var lines = new SortedSet<string>(StringComparer.Ordinal);
        var schemaList = schemas.ToArray();
        async Task ReadAsync(string sql, Func<NpgsqlDataReader, string> line)
        {
            await using var command = dataSource.CreateCommand(sql);
            command.Parameters.AddWithValue(schemaList);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
                lines.Add(line(reader));
        }

        await ReadAsync("""
            SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
            FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = ANY($1) AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
            """, r => $"{r.GetString(0)}.{r.GetString(1)} column {r.GetString(2)} {r.GetString(3)} {(r.GetBoolean(4) ? "not null" : "null")}");
        await ReadAsync("""
            SELECT n.nspname, c.relname, con.conname,
                   (SELECT string_agg(a.attname, ', ' ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum)
            FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = ANY($1) AND con.contype = 'p'
            """, r => $"{r.GetString(0)}.{r.GetString(1)} primary key {r.GetString(2)} ({r.GetString(3)})");
        await ReadAsync("""
            SELECT n.nspname, c.relname, con.conname,
                   (SELECT string_agg(a.attname, ', ' ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum),
                   pn.nspname, pc.relname,
                   CASE con.confdeltype WHEN 'c' THEN 'cascade' WHEN 'n' THEN 'setnull' WHEN 'r' THEN 'restrict' ELSE 'noaction' END
            FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                 JOIN pg_class pc ON pc.oid = con.confrelid JOIN pg_namespace pn ON pn.oid = pc.relnamespace
            WHERE n.nspname = ANY($1) AND con.contype = 'f'
            """, r => $"{r.GetString(0)}.{r.GetString(1)} foreign key {r.GetString(2)} ({r.GetString(3)}) -> {r.GetString(4)}.{r.GetString(5)} on delete {r.GetString(6)}");
        await ReadAsync("""
            SELECT n.nspname, t.relname, i.relname, ix.indisunique,
                   (SELECT string_agg(a.attname, ', ' ORDER BY k.ord) FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum)
            FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid
                 JOIN pg_namespace n ON n.oid = t.relnamespace
            WHERE n.nspname = ANY($1) AND NOT ix.indisprimary
            """, r => $"{r.GetString(0)}.{r.GetString(1)} {(r.GetBoolean(3) ? "unique " : "")}index {r.GetString(2)} ({r.GetString(4)})");
        return lines;
    }
}
