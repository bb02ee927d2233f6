using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Serilog.Core;

namespace Onboarding.IntegrationTests.Infrastructure;

/// <summary>
/// The real host on a real Kestrel socket (port 0), with its own database cloned from the migrated template
/// and its own key store (so no test writes keys into the source tree). Settings can be overridden per test class.
/// </summary>
public class OnboardingFactory : WebApplicationFactory<Program>, IAsyncLifetime
{
    private readonly Dictionary<string, string?> _settings = new()
    {
        // High limits by default: every test class calls from 127.0.0.1. Rate-limit tests lower them.
        ["Accounts:SignUp:PermitLimit"] = "10000",
        ["Accounts:FailedAuthentication:PermitLimit"] = "10000",
        ["Nms:PublicHost"] = "nms.test.example",
        ["Logging:Console:Format"] = "plain",
        // Each test host gets its own SFTP port; failed logins are slowed only a little so tests stay quick.
        ["Drop:Port"] = "0",
        ["Drop:ListenAddress"] = "127.0.0.1",
        ["Drop:FailedLoginDelay"] = "00:00:00.050",
        // The NMS bootstrap server (RFC 8572) on a free local port; devices are still told Nms:BootstrapPort.
        ["Nms:Bootstrap:ListenPort"] = "0",
        ["Nms:Bootstrap:ListenAddress"] = "127.0.0.1",
        // The call-home listener (RFC 8071) on a free loopback port, so parallel test hosts never contend for 4334.
        ["Nms:CallHome:ListenPort"] = "0",
        ["Nms:CallHome:ListenAddress"] = "127.0.0.1",
        // The redirect server's device-facing port: a free one per host, on loopback, named localhost in its TLS certificate.
        ["Redirect:Bootstrap:Port"] = "0",
        ["Redirect:Bootstrap:ListenAddress"] = "127.0.0.1",
        ["Redirect:PublicHost"] = "localhost",
    };

    private OnboardingFactory? _sharesDatabaseWith;

    public OnboardingFactory() => UseKestrel(0);

    public CapturedLogs Logs { get; } = new();

    public string ConnectionString { get; private set; } = "";

    public string KeyStoreDirectory { get; } = Directory.CreateTempSubdirectory("onboarding-keys-").FullName;

    /// <summary>Where the host keeps its SSH host keys by default: a subdirectory of its key store.</summary>
    public string KeyDirectory => Path.Combine(KeyStoreDirectory, Onboarding.HostKeys.HostKeysOptions.KeyStoreSubdirectory);

    /// <summary>Overrides a configuration value; call before the server starts.</summary>
    public OnboardingFactory With(string key, string? value)
    {
        _settings[key] = value;
        return this;
    }

    /// <summary>
    /// Another host on <paramref name="first"/>'s database and key store (several hosts behind one PostgreSQL, DESIGN.md
    /// "Scale-out"): initialise <paramref name="first"/> before this one.
    /// </summary>
    public OnboardingFactory ShareDatabaseWith(OnboardingFactory first)
    {
        _sharesDatabaseWith = first;
        return this;
    }

    public virtual async Task InitializeAsync()
    {
        if (_sharesDatabaseWith is { } first)
        {
            ConnectionString = first.ConnectionString;
        }
        else
        {
            var server = await PostgresServer.Instance;
            ConnectionString = await server.CreateMigratedDatabaseAsync(GetType().Name, MigrateTemplateAsync);
        }

        StartServer();
    }

    public new async Task DisposeAsync()
    {
        await base.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ConnectionStrings:Onboarding", ConnectionString);
        builder.UseSetting("KeyStore:Directory", _sharesDatabaseWith?.KeyStoreDirectory ?? KeyStoreDirectory);
        foreach (var (key, value) in _settings)
            builder.UseSetting(key, value);
        builder.ConfigureServices(services => services.AddSingleton<ILogEventSink>(Logs));
    }

    /// <summary>Migrates the shared template by starting the real host on it once: the same path production takes.</summary>
    private static async Task MigrateTemplateAsync(string connectionString)
    {
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("ConnectionStrings:Onboarding", connectionString);
            b.UseSetting("KeyStore:Directory", Directory.CreateTempSubdirectory("onboarding-keys-").FullName);
            b.UseSetting("Drop:Enabled", "false");
            b.UseSetting("Nms:Bootstrap:Enabled", "false");
            b.UseSetting("Nms:CallHome:Enabled", "false");
            b.UseSetting("Redirect:Bootstrap:Enabled", "false");
        });
        _ = factory.Services; // builds and starts the host, which migrates on start-up
    }

    /// <summary>The port the SFTP drop listens on (127.0.0.1).</summary>
    public int SftpPort => Services.GetRequiredService<Onboarding.Drop.Sftp.SftpDropListener>().BoundEndpoint.WaitAsync(TimeSpan.FromSeconds(10)).Result.Port;

    public HttpClient CreateCustomerClient(string apiKey)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        return client;
    }

    /// <summary>Signs up a fresh customer and returns a client that authenticates as it.</summary>
    public async Task<(HttpClient Client, Onboarding.Accounts.Api.SignUpResponse Customer)> SignUpAsync(string name = "Acme Telecom")
    {
        using var anonymous = CreateClient();
        var response = await anonymous.PostAsJsonAsync("/api/customers", new { name, contactEmail = "noc@acme.example" });
        response.EnsureSuccessStatusCode();
        var customer = (await response.Content.ReadFromJsonAsync<Onboarding.Accounts.Api.SignUpResponse>())!;
        return (CreateCustomerClient(customer.ApiKey), customer);
    }
}
