using System.Net.Http.Json;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.ServiceDefaults.Http;
using Onboarding.Telemetry.Api;

namespace Onboarding.IntegrationTests;

/// <summary>The ingester with a plain subscription (<c>Telemetry:Ingestion:SharedSubscriptionGroup</c> empty).</summary>
public sealed class PlainSubscriptionTelemetryFactory : TelemetryFactory
{
    public PlainSubscriptionTelemetryFactory() => With("Telemetry:Ingestion:SharedSubscriptionGroup", "");
}

/// <summary>
/// A broker restart with telemetry published before the ingester is back (bench/README.md, telemetry, "Resilience: the
/// broker stopped"): mosquitto 2.0.11 restores a persistent session's plain subscriptions from its persistence file but
/// not its <c>$share/</c> ones, so with the default shared group such a publish is PUBACKed 0x10 and dropped.
/// </summary>
[Trait("Category", "Interop")]
public class TelemetryBrokerRestartTests(PlainSubscriptionTelemetryFactory factory) : IClassFixture<PlainSubscriptionTelemetryFactory>
{
    [Fact]
    public async Task Telemetry_published_after_a_broker_restart_before_the_ingester_is_back_is_stored()
    {
        var setup = await factory.BookkeepAsync("Broker Restart Telecom", "TLM-BRS-1");
        var device = await factory.IssueAsync("TLM-BRS-1");
        await TelemetryFactory.EventuallyAsync(() => Task.FromResult(factory.Logs.RenderedMessages.Any(m =>
            m.StartsWith("Telemetry ingester subscribed to \"devices/+/telemetry\"", StringComparison.Ordinal))), "the ingester's plain subscription");

        // SIGTERM: mosquitto saves the ingester's session (and its subscription) to its persistence file.
        await factory.StopBrokerAsync();
        await factory.StartBrokerWithoutIngesterAsync();
        var published = await factory.PublishAsync(device, "devices/TLM-BRS-1/telemetry",
            $$"""{"device_id":"TLM-BRS-1","device_name":{{device.Credential.DeviceName}},"latitude":48.1,"longitude":11.5,"battery_level":80,"signal_date":"2026-02-01T00:00:00Z"}""");
        Assert.True(published.ExitCode == 0, published.Stderr); // PUBACKed by the broker while the ingester is away
        await factory.RestartBrokerAsync(); // now the ingester may log in; the queued message must survive this stop too

        await TelemetryFactory.EventuallyAsync(async () =>
            (await setup.Customer.GetFromJsonAsync<PagedList<TelemetryReading>>("/api/devices/TLM-BRS-1/telemetry"))!.Total == 1,
            "the reading published while the ingester was away", TimeSpan.FromSeconds(40));
    }
}
