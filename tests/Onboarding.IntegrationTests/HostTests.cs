using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Onboarding.IntegrationTests.Infrastructure;

namespace Onboarding.IntegrationTests;

public class HostTests(OnboardingFactory factory) : IClassFixture<OnboardingFactory>
{
    [Fact]
    public async Task Live_and_ready_are_healthy_with_the_database_up()
    {
        using var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
    }

    [Fact]
    public async Task Ready_fails_but_live_succeeds_when_the_database_is_unreachable()
    {
        await using var noDatabase = new UnreachableDatabaseFactory();
        await noDatabase.InitializeAsync();
        using var client = noDatabase.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/health/ready")).StatusCode);
    }

    [Fact]
    public async Task A_request_that_cannot_reach_the_database_answers_503_with_retry_after()
    {
        await using var noDatabase = new UnreachableDatabaseFactory();
        await noDatabase.InitializeAsync();
        using var client = noDatabase.CreateClient();

        var response = await client.PostAsJsonAsync("/api/customers", new { name = "Offline Telecom", contactEmail = "ops@offline.example" });

        await Problem.AssertAsync(response, HttpStatusCode.ServiceUnavailable);
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
    }

    [Fact]
    public async Task After_the_database_ended_every_session_the_first_request_gets_503_and_the_next_ones_succeed()
    {
        var (customer, _) = await factory.SignUpAsync("Restart Telecom");
        // Several pooled connections, all of which the database is about to end (as a restart does).
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => customer.GetAsync("/api/customers/me")));
        await using (var connection = new Npgsql.NpgsqlConnection(factory.ConnectionString))
        {
            await connection.OpenAsync();
            await using var terminate = new Npgsql.NpgsqlCommand(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()", connection);
            Assert.True((long)(await terminate.ExecuteScalarAsync())! >= 2);
        }

        // Which request meets a dead pooled connection is a race with the host's background workers (outbox
        // dispatcher, hand-off), which draw from the same pool: each request gets the 503 ProblemDetails with
        // Retry-After (never a 500) or is already served on a fresh connection.
        var firsts = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => customer.GetAsync("/api/customers/me")));

        foreach (var first in firsts.Where(r => r.StatusCode != HttpStatusCode.OK))
        {
            await Problem.AssertAsync(first, HttpStatusCode.ServiceUnavailable);
            Assert.Equal(TimeSpan.FromSeconds(1), first.Headers.RetryAfter?.Delta);
        }
        for (var i = 0; i < 4; i++)
            Assert.Equal(HttpStatusCode.OK, (await customer.GetAsync("/api/customers/me")).StatusCode);
    }

    [Fact]
    public async Task Swagger_documents_every_api_endpoint_with_a_summary_and_the_api_key_scheme()
    {
        using var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/swagger/index.html")).StatusCode);
        using var document = JsonDocument.Parse(await client.GetStringAsync("/swagger/v1/swagger.json"));
        var paths = document.RootElement.GetProperty("paths");

        var expected = new[]
        {
            ("/api/customers", "post"), ("/api/customers/me", "get"), ("/api/customers/me/api-key", "post"),
            ("/api/manufacturers", "post"), ("/api/manufacturers", "get"), ("/api/manufacturers/{id}", "get"),
            ("/api/manufacturers/{id}/credentials", "post"), ("/api/manufacturers/{id}/disable", "post"),
            ("/api/manufacturers/{id}/enable", "post"), ("/api/nms/host-keys", "get"),
        };
        foreach (var (path, verb) in expected)
        {
            var operation = paths.GetProperty(path).GetProperty(verb);
            Assert.False(string.IsNullOrWhiteSpace(operation.GetProperty("summary").GetString()), $"{verb} {path} has no summary");
        }

        var scheme = document.RootElement.GetProperty("components").GetProperty("securitySchemes").GetProperty("ApiKey");
        Assert.Equal("X-Api-Key", scheme.GetProperty("name").GetString());
        Assert.True(paths.GetProperty("/api/manufacturers").GetProperty("get").TryGetProperty("security", out _));
        Assert.False(paths.GetProperty("/api/customers").GetProperty("post").TryGetProperty("security", out _));
    }

    [Fact]
    public async Task Every_log_line_of_a_request_carries_its_request_id_and_no_secret_is_logged()
    {
        var (client, customer) = await factory.SignUpAsync("Logging Telecom");
        var response = await client.PostAsJsonAsync("/api/manufacturers", new { name = "Logged Vendor", serverDnsName = "logged.example" });
        var issued = (await response.Content.ReadFromJsonAsync<Onboarding.Accounts.Api.ManufacturerCredentials>())!;

        var inRequest = factory.Logs.Events.Where(e => e.Properties.ContainsKey("RequestPath")).ToList();
        Assert.NotEmpty(inRequest);
        Assert.All(inRequest, e => Assert.True(e.Properties.ContainsKey("RequestId"), e.RenderMessage()));
        Assert.Contains(inRequest, e => e.MessageTemplate.Text.Contains("registered manufacturer", StringComparison.Ordinal));

        var everything = string.Join('\n', factory.Logs.Events.Select(e => e.RenderMessage() + string.Join(' ', e.Properties.Values)));
        Assert.DoesNotContain(customer.ApiKey, everything, StringComparison.Ordinal);
        Assert.DoesNotContain(issued.Passphrase, everything, StringComparison.Ordinal);
    }
}

public sealed class UnreachableDatabaseFactory : OnboardingFactory
{
    public override Task InitializeAsync()
    {
        With("ConnectionStrings:Onboarding", "Host=127.0.0.1;Port=1;Username=nobody;Timeout=2");
        With("Database:MigrateOnStartup", "false");
        StartServer();
        return Task.CompletedTask;
    }
}
