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
