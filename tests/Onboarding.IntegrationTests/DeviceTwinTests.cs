using System.Net;
using System.Net.Http.Json;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.Telemetry.Api;

namespace Onboarding.IntegrationTests;

/// <summary>
/// The device twin over the real broker: the desired function published retained on devices/&lt;serial&gt;/config, the
/// version devices report on devices/&lt;serial&gt;/state, and what the twin API makes of both.
/// </summary>
[Trait("Category", "Interop")]
public class DeviceTwinTests(TelemetryFactory factory) : IClassFixture<TelemetryFactory>
{
    [Fact]
    public async Task A_malformed_state_report_is_dead_lettered_and_an_older_one_does_not_lower_the_reported_version()
    {
        var setup = await factory.BookkeepAsync("State Telecom", "TLM-STATE-1");
        var device = await factory.IssueAsync("TLM-STATE-1");

        Assert.Equal(0, (await factory.PublishAsync(device, "devices/TLM-STATE-1/state", "{\"applied_version\":3}")).ExitCode);
        await TelemetryFactory.EventuallyAsync(async () =>
            (await setup.Customer.GetFromJsonAsync<DeviceTwin>("/api/devices/TLM-STATE-1/twin"))!.ReportedVersion == 3, "reported version 3");

        // A redelivered older report after it, behind a malformed one on the same connection.
        var published = await factory.PublishLinesAsync(device, "devices/TLM-STATE-1/state", ["{\"applied_version\":\"three\"}", "{\"applied_version\":2}"]);

        Assert.True(published.ExitCode == 0, published.Stderr);
        await TelemetryFactory.EventuallyAsync(async () => await factory.CountAsync(
            "SELECT count(*) FROM telemetry.dead_letters WHERE topic = 'devices/TLM-STATE-1/state' AND reason LIKE 'a state report must be%' "
            + "AND payload = convert_to('{\"applied_version\":\"three\"}', 'UTF8')") == 1, "the malformed report's dead letter");
        await Task.Delay(500); // longer than the flush interval: the older report has been written if it came in a later batch
        Assert.Equal(3, (await setup.Customer.GetFromJsonAsync<DeviceTwin>("/api/devices/TLM-STATE-1/twin"))!.ReportedVersion);
    }

    [Fact]
    public async Task A_function_change_is_published_retained_and_the_twin_shows_when_the_device_applied_it()
    {
        var setup = await factory.BookkeepAsync("Twin Telecom", "TLM-TWIN-1", "TLM-TWIN-2");
        var device = await factory.IssueAsync("TLM-TWIN-1");
        var other = await factory.IssueAsync("TLM-TWIN-2");
        using var admin = factory.CreateAdminClient();

        var change = await admin.PutAsJsonAsync("/api/devices/TLM-TWIN-1/telemetry-function", new DeviceFunctionChange("gateway"));
        Assert.Equal(HttpStatusCode.OK, change.StatusCode);
        Assert.Equal(1, (await change.Content.ReadFromJsonAsync<DeviceTwin>())!.DesiredVersion);

        // Retained: the device gets it when it subscribes later. Another device may not read it.
        var config = await factory.ReceiveOneAsync(device, "devices/TLM-TWIN-1/config");
        Assert.True(config.ExitCode == 0, config.Stderr);
        Assert.Contains("\"version\":1", config.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"device_function\":\"gateway\"", config.Stdout, StringComparison.Ordinal);
        var snooped = await factory.ReceiveOneAsync(other, "devices/TLM-TWIN-1/config", waitSeconds: 2);
        Assert.DoesNotContain("gateway", snooped.Stdout, StringComparison.Ordinal);

        var before = (await setup.Customer.GetFromJsonAsync<DeviceTwin>("/api/devices/TLM-TWIN-1/twin"))!;
        Assert.Equal(("gateway", 1, false), (before.DeviceFunction, before.DesiredVersion, before.InSync));
        Assert.Equal(0, (await factory.PublishAsync(device, "devices/TLM-TWIN-1/state", "{\"applied_version\":1}")).ExitCode);
        await TelemetryFactory.EventuallyAsync(async () =>
            (await setup.Customer.GetFromJsonAsync<DeviceTwin>("/api/devices/TLM-TWIN-1/twin"))!.InSync, "the twin in sync");

        var (stranger, _) = await factory.SignUpAsync("Stranger Telecom");
        await Problem.AssertAsync(await stranger.GetAsync("/api/devices/TLM-TWIN-1/twin"), HttpStatusCode.NotFound);

        // A change for the customer's whole fleet gives every device its next version.
        var group = await admin.PutAsJsonAsync($"/api/telemetry/customers/{setup.Profile.Id}/device-function", new DeviceFunctionChange("sensor"));
        Assert.Equal(HttpStatusCode.OK, group.StatusCode);
        var twins = (await group.Content.ReadFromJsonAsync<List<DeviceTwin>>())!;
        Assert.Equal([("TLM-TWIN-1", 2), ("TLM-TWIN-2", 1)], twins.Select(t => (t.DeviceId, t.DesiredVersion)));
        var fleetConfig = await factory.ReceiveOneAsync(other, "devices/TLM-TWIN-2/config");
        Assert.Contains("\"device_function\":\"sensor\"", fleetConfig.Stdout, StringComparison.Ordinal);
        Assert.False((await setup.Customer.GetFromJsonAsync<DeviceTwin>("/api/devices/TLM-TWIN-1/twin"))!.InSync);
    }

    [Fact]
    public async Task Concurrent_function_changes_get_distinct_versions_and_the_retained_configuration_is_the_stored_one()
    {
        await factory.BookkeepAsync("Function Race Telecom", "TLM-FN-RACE-1");
        var device = await factory.IssueAsync("TLM-FN-RACE-1");
        using var admin = factory.CreateAdminClient();

        var changes = await Task.WhenAll(Enumerable.Range(0, 8).Select(async i =>
        {
            var response = await admin.PutAsJsonAsync("/api/devices/TLM-FN-RACE-1/telemetry-function", new DeviceFunctionChange($"function-{i}"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return (await response.Content.ReadFromJsonAsync<DeviceTwin>())!;
        }));

        Assert.Equal(Enumerable.Range(1, 8), changes.Select(c => c.DesiredVersion).Order());
        var last = changes.Single(c => c.DesiredVersion == 8);
        Assert.Equal(1, await factory.CountAsync(
            "SELECT count(*) FROM telemetry.devices WHERE serial_number = 'TLM-FN-RACE-1' AND desired_version = 8 AND device_function = $1", last.DeviceFunction));
        var config = await factory.ReceiveOneAsync(device, "devices/TLM-FN-RACE-1/config");
        Assert.True(config.ExitCode == 0, config.Stderr);
        Assert.Contains("\"version\":8", config.Stdout, StringComparison.Ordinal);
        Assert.Contains($"\"device_function\":\"{last.DeviceFunction}\"", config.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_function_change_while_the_broker_is_down_is_kept_and_the_repeat_publishes_the_next_version()
    {
        await factory.BookkeepAsync("Offline Broker Telecom", "TLM-NOBRK-1");
        var device = await factory.IssueAsync("TLM-NOBRK-1");
        using var admin = factory.CreateAdminClient();

        await factory.StopBrokerAsync();
        try
        {
            var refused = await admin.PutAsJsonAsync("/api/devices/TLM-NOBRK-1/telemetry-function", new DeviceFunctionChange("router"));
            var problem = await Problem.AssertAsync(refused, HttpStatusCode.ServiceUnavailable);
            Assert.Contains("repeat the request", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Equal(1, await factory.CountAsync(
                "SELECT count(*) FROM telemetry.devices WHERE serial_number = 'TLM-NOBRK-1' AND desired_version = 1 AND device_function = 'router'"));
        }
        finally
        {
            await factory.StartBrokerAsync();
        }

        DeviceTwin? twin = null;
        await TelemetryFactory.EventuallyAsync(async () =>
        {
            var repeat = await admin.PutAsJsonAsync("/api/devices/TLM-NOBRK-1/telemetry-function", new DeviceFunctionChange("router"));
            twin = repeat.IsSuccessStatusCode ? await repeat.Content.ReadFromJsonAsync<DeviceTwin>() : null;
            return twin is not null;
        }, "the publisher to reconnect", TimeSpan.FromSeconds(30));
        Assert.True(twin!.DesiredVersion >= 2);
        var config = await factory.ReceiveOneAsync(device, "devices/TLM-NOBRK-1/config");
        Assert.Contains($"\"version\":{twin.DesiredVersion}", config.Stdout, StringComparison.Ordinal);
    }
}
