using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Onboarding.IntegrationTests.Infrastructure;

/// <summary>
/// One PostgreSQL server for the whole test run. <c>ONBOARDING_TEST_DB</c> (a connection string for a role
/// that may create databases) is used when set; otherwise a throwaway cluster is started from the local
/// PostgreSQL binaries with initdb/pg_ctl, as the <c>postgres</c> user when we run as root. Each test class
/// gets its own database cloned from a migrated template, so classes stay independent and run in parallel.
/// </summary>
public sealed class PostgresServer
{
    public const string EnvironmentVariable = "ONBOARDING_TEST_DB";
    private const string TemplateDatabase = "onboarding_template";

    private static readonly Lazy<Task<PostgresServer>> Shared = new(StartAsync);
    private static readonly SemaphoreSlim CloneLock = new(1, 1);

    private readonly string _adminConnectionString;
    private bool _templateReady;

    private PostgresServer(string adminConnectionString) => _adminConnectionString = adminConnectionString;

    public static Task<PostgresServer> Instance => Shared.Value;

    /// <summary>A new, empty database (no schema at all).</summary>
    public async Task<string> CreateEmptyDatabaseAsync(string purpose)
    {
        var name = DatabaseName(purpose);
        await ExecuteAsync($"CREATE DATABASE \"{name}\" TEMPLATE template0");
        return ConnectionStringFor(name);
    }

    /// <summary>A new database holding the current schema, cloned from a template migrated once per run.</summary>
    public async Task<string> CreateMigratedDatabaseAsync(string purpose, Func<string, Task> migrate)
    {
        var name = DatabaseName(purpose);
        // CREATE DATABASE … TEMPLATE needs the template to have no other sessions; clone one at a time.
        await CloneLock.WaitAsync();
        try
        {
            if (!_templateReady)
            {
                await ExecuteAsync($"DROP DATABASE IF EXISTS {TemplateDatabase} WITH (FORCE)");
                await ExecuteAsync($"CREATE DATABASE {TemplateDatabase} TEMPLATE template0");
                var templateConnection = ConnectionStringFor(TemplateDatabase);
                await migrate(templateConnection);
                NpgsqlConnection.ClearAllPools();
                _templateReady = true;
            }

            await ExecuteAsync($"CREATE DATABASE \"{name}\" TEMPLATE {TemplateDatabase}");
        }
        finally
        {
            CloneLock.Release();
        }

        return ConnectionStringFor(name);
    }

    public string ConnectionStringFor(string database) =>
        new NpgsqlConnectionStringBuilder(_adminConnectionString) { Database = database, Pooling = true, MaxPoolSize = 20 }.ConnectionString;

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_adminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static string DatabaseName(string purpose) =>
        $"t_{new string([.. purpose.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit).Take(30)])}_{Guid.NewGuid().ToString("N")[..16]}";

    private static async Task<PostgresServer> StartAsync()
    {
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } external)
            return new PostgresServer(external);
        return await ThrowawayCluster.StartAsync();
    }

    /// <summary>A cluster in a temporary directory, stopped when the test process exits.</summary>
    private static class ThrowawayCluster
    {
        public static async Task<PostgresServer> StartAsync()
        {
            var bin = FindBinaries();
            var runAsPostgres = Environment.UserName == "root";
            var directory = Directory.CreateTempSubdirectory("onboarding-pg-").FullName;
            var data = Path.Combine(directory, "data");
            if (runAsPostgres)
                await RunAsync("chown", ["-R", "postgres:postgres", directory], asPostgres: false);

            await RunAsync(Path.Combine(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C"], runAsPostgres);

            var port = FreePort();
            var options = $"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300";
            await RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", data, "-l", Path.Combine(directory, "server.log"), "-o", options, "-w", "-t", "60", "start"], runAsPostgres);

            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "stop"], runAsPostgres).GetAwaiter().GetResult();
                try
                {
                    Directory.Delete(directory, recursive: true);
                }
                catch (IOException)
                {
                    // A leftover temp directory is harmless; the OS cleans /tmp.
                }
            };

            return new PostgresServer($"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Include Error Detail=true");
        }

        private static string FindBinaries()
        {
            var candidates = Directory.Exists("/usr/lib/postgresql")
                ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
                    .Where(d => File.Exists(Path.Combine(d, "initdb")))
                    .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
                : Enumerable.Empty<string>();
            return candidates.FirstOrDefault()
                ?? throw new InvalidOperationException(
                    $"No PostgreSQL server binaries found under /usr/lib/postgresql. Run ./test.sh (it installs them) or set {EnvironmentVariable}.");
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        private static async Task RunAsync(string file, string[] arguments, bool asPostgres)
        {
            var start = new ProcessStartInfo(asPostgres ? "runuser" : file)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = "/tmp",
            };
            if (asPostgres)
            {
                foreach (var a in new[] { "-u", "postgres", "--", file })
                    start.ArgumentList.Add(a);
            }

            foreach (var a in arguments)
                start.ArgumentList.Add(a);

            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited {process.ExitCode}: {await stdout}{await stderr}");
        }
    }
}
