using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Onboarding.IntegrationTests.Infrastructure;
using Serilog.Events;
using Serilog.Formatting.Json;

namespace Onboarding.IntegrationTests;

/// <summary>The host with an admin key configured, so requests can carry both kinds of key.</summary>
public sealed class RequestLoggingFactory : OnboardingFactory
{
    public const string AdminKey = "admin-key-never-logged-4f1c0b7e9d2a";

    public RequestLoggingFactory() => With("Admin:ApiKey", AdminKey);
}

public class RequestLoggingTests(RequestLoggingFactory factory) : IClassFixture<RequestLoggingFactory>
{
    private const string RequestLogSource = "Serilog.AspNetCore.RequestLoggingMiddleware";

    [Fact]
    public async Task Every_request_is_logged_exactly_once_with_method_path_route_status_elapsed_and_request_id()
    {
        var (client, _) = await factory.SignUpAsync("Request Log Telecom");
        using (client)
        {
            var unknown = $"/api/manufacturers/{Guid.NewGuid()}";
            var notFound = await client.GetAsync(unknown);
            var requestId = (await Problem.AssertAsync(notFound, HttpStatusCode.NotFound)).GetProperty("requestId").GetString();

            var created = await client.PostAsJsonAsync("/api/manufacturers", new { name = "Request Log Vendor", serverDnsName = "reqlog.example" });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);

            var listed = await client.GetAsync("/api/manufacturers");
            Assert.Equal(HttpStatusCode.OK, listed.StatusCode);

            var notFoundEvent = await SingleRequestEventAsync(unknown, "GET");
            Assert.Equal(404, Scalar(notFoundEvent, "StatusCode"));
            Assert.Equal("/api/manufacturers/{id:guid}", Scalar(notFoundEvent, "Route"));
            Assert.Equal(requestId, Scalar(notFoundEvent, "RequestId"));
            Assert.InRange(Assert.IsType<double>(Scalar(notFoundEvent, "Elapsed")), 0.0, 60_000.0);
            Assert.Equal(LogEventLevel.Information, notFoundEvent.Level);

            var createdEvent = await SingleRequestEventAsync("/api/manufacturers", "POST");
            Assert.Equal(201, Scalar(createdEvent, "StatusCode"));
            Assert.Equal("/api/manufacturers/", Scalar(createdEvent, "Route")); // the group prefix joined to the route "/"

            var listedEvent = await SingleRequestEventAsync("/api/manufacturers", "GET");
            Assert.Equal(200, Scalar(listedEvent, "StatusCode"));

            // Each request has its own id, and the request's other events share it.
            var ids = new[] { notFoundEvent, createdEvent, listedEvent }.Select(e => (string)Scalar(e, "RequestId")!).ToList();
            Assert.Equal(3, ids.Distinct(StringComparer.Ordinal).Count());
            Assert.Contains(factory.Logs.Events, e => e.MessageTemplate.Text.Contains("registered manufacturer", StringComparison.Ordinal)
                && e.Properties.TryGetValue("RequestId", out var id) && id is ScalarValue { Value: string s } && s == ids[1]);
        }
    }

    [Fact]
    public async Task No_api_key_admin_key_or_query_string_value_appears_in_any_log_event()
    {
        const string querySecret = "query-secret-8c1d77e2a5";
        const string wrongKey = "wrong-api-key-3b9f06d1c4";
        const string wrongAdminKey = "wrong-admin-key-71e4a0c2f8";
        var (client, customer) = await factory.SignUpAsync("Secret Keeping Telecom");
        using (client)
        using (var anonymous = factory.CreateClient())
        {
            var withKey = await client.GetAsync($"/api/customers/me?token={querySecret}&apiKey={customer.ApiKey}");
            Assert.Equal(HttpStatusCode.OK, withKey.StatusCode);

            using var badKey = new HttpRequestMessage(HttpMethod.Get, $"/api/customers/me?secret={querySecret}");
            badKey.Headers.Add("X-Api-Key", wrongKey);
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.SendAsync(badKey)).StatusCode);

            using var admin = new HttpRequestMessage(HttpMethod.Get, "/api/telemetry/credentials/history.csv");
            admin.Headers.Add("X-Admin-Key", RequestLoggingFactory.AdminKey);
            var adminResponse = await anonymous.SendAsync(admin);
            Assert.Equal(HttpStatusCode.OK, adminResponse.StatusCode);

            using var badAdmin = new HttpRequestMessage(HttpMethod.Get, "/api/telemetry/credentials/history.csv");
            badAdmin.Headers.Add("X-Admin-Key", wrongAdminKey);
            var badAdminResponse = await anonymous.SendAsync(badAdmin);
            Assert.False(badAdminResponse.IsSuccessStatusCode);

            // The request events exist (so the check below has something to look at) and carry the path only.
            var meEvents = await RequestEventsAsync("/api/customers/me", "GET", 2);
            Assert.Equal([200, 401], meEvents.Select(e => (int)Scalar(e, "StatusCode")!).Order().ToArray());
            var adminEvents = await RequestEventsAsync("/api/telemetry/credentials/history.csv", "GET", 2);
            Assert.Equal([(int)adminResponse.StatusCode, (int)badAdminResponse.StatusCode],
                adminEvents.Select(e => (int)Scalar(e, "StatusCode")!).Order().ToArray());
        }

        // Every event in full (message, every property, exception), as the JSON console format would write it.
        var formatter = new JsonFormatter(renderMessage: true);
        var everything = new StringWriter();
        foreach (var e in factory.Logs.Events)
            formatter.Format(e, everything);
        var logged = everything.ToString();
        foreach (var secret in new[] { customer.ApiKey, querySecret, wrongKey, RequestLoggingFactory.AdminKey, wrongAdminKey })
            Assert.DoesNotContain(secret, logged, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_console_format_stops_the_host_with_a_clear_error()
    {
        using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("ConnectionStrings:Onboarding", "Host=127.0.0.1;Port=1;Username=nobody");
            b.UseSetting("Database:MigrateOnStartup", "false");
            b.UseSetting("Drop:Enabled", "false");
            b.UseSetting("Logging:Console:Format", "xml");
        });
        var error = Assert.ThrowsAny<Exception>(() => factory.Services);
        Assert.Contains("Logging:Console:Format is 'xml'; it must be 'plain' or 'json'", Flatten(error), StringComparison.Ordinal);
    }

    private static string Flatten(Exception e) => e.InnerException is null ? e.Message : e.Message + " / " + Flatten(e.InnerException);

    private static object? Scalar(LogEvent e, string property) =>
        Assert.IsType<ScalarValue>(e.Properties[property], exactMatch: false).Value;

    private async Task<LogEvent> SingleRequestEventAsync(string path, string method) =>
        Assert.Single(await RequestEventsAsync(path, method, 1));

    /// <summary>
    /// The request events for a path, once at least <paramref name="expected"/> are there: the event is written when the
    /// pipeline returns, which may be just after the client has read the response. Waits a little longer to catch a
    /// duplicate.
    /// </summary>
    private async Task<List<LogEvent>> RequestEventsAsync(string path, string method, int expected)
    {
        var clock = Stopwatch.StartNew();
        List<LogEvent> found;
        while ((found = Find()).Count < expected && clock.Elapsed < TimeSpan.FromSeconds(10))
            await Task.Delay(20);
        await Task.Delay(200);
        return Find();

        List<LogEvent> Find() => factory.Logs.Events.Where(e =>
            e.Properties.TryGetValue("SourceContext", out var source) && source is ScalarValue { Value: RequestLogSource }
            && Equals(ScalarOrNull(e, "RequestPath"), path) && Equals(ScalarOrNull(e, "RequestMethod"), method)).ToList();
    }

    private static object? ScalarOrNull(LogEvent e, string property) =>
        e.Properties.TryGetValue(property, out var value) && value is ScalarValue scalar ? scalar.Value : null;
}
