using System.Globalization;
using System.Net.Http.Json;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.ServiceDefaults.Http;
using Onboarding.Telemetry.Api;

namespace Onboarding.IntegrationTests;

/// <summary>
/// A broker restart with telemetry published before the ingester is back (bench/README.md, telemetry, "Resilience: the
/// broker stopped"), with the ingester as shipped (no override): its plain subscription is in the persistent session that
/// mosquitto saves and restores, so the broker queues what devices publish meanwhile. (mosquitto 2.0.11 does not restore
/// a <c>$share/</c> subscription of an offline session: with a shared group such a publish is PUBACKed 0x10 and dropped.)
/// </summary>
[Trait("Category", "Interop")]
public class TelemetryBrokerRestartTests(TelemetryFactory factory) : IClassFixture<TelemetryFactory>
{
    [Fact]
    public async Task With_the_default_subscription_every_message_published_while_the_broker_restarts_is_stored()
    {
        const int before = 15, during = 20, after = 15;
        var setup = await factory.BookkeepAsync("Broker Restart Telecom", "TLM-BRS-1");
        var device = await factory.IssueAsync("TLM-BRS-1");
        await TelemetryFactory.EventuallyAsync(() => Task.FromResult(factory.Logs.RenderedMessages.Any(m =>
            m.StartsWith("Telemetry ingester subscribed to \"devices/+/telemetry\"", StringComparison.Ordinal))), "the default, plain subscription");

        var first = await factory.PublishLinesAsync(device, "devices/TLM-BRS-1/telemetry", Readings(device, 0, before));
        Assert.True(first.ExitCode == 0, first.Stderr);
        // SIGTERM: mosquitto saves the ingester's session (and its subscription) to its persistence file.
        await factory.StopBrokerAsync();
        await factory.StartBrokerWithoutIngesterAsync();
        // Every one of these is PUBACKed by the broker while the ingester is away (mosquitto_pub -q 1 exits 0 only then).
        var meanwhile = await factory.PublishLinesAsync(device, "devices/TLM-BRS-1/telemetry", Readings(device, before, during));
        Assert.True(meanwhile.ExitCode == 0, meanwhile.Stderr);
        await factory.RestartBrokerAsync(); // now the ingester may log in; the queued messages must survive this stop too
        var last = await factory.PublishLinesAsync(device, "devices/TLM-BRS-1/telemetry", Readings(device, before + during, after));
        Assert.True(last.ExitCode == 0, last.Stderr);

        await TelemetryFactory.EventuallyAsync(async () =>
            (await setup.Customer.GetFromJsonAsync<PagedList<TelemetryReading>>("/api/devices/TLM-BRS-1/telemetry"))!.Total == before + during + after,
            "every reading PUBACKed to the device", TimeSpan.FromSeconds(40));
    }

    internal static IEnumerable<string> Readings(DeviceCredentialFiles device, int first, int count) =>
        Enumerable.Range(first, count).Select(i =>
            $$"""{"device_id":"{{device.Credential.DeviceId}}","device_name":{{device.Credential.DeviceName}},"latitude":48.1,"longitude":11.5,"battery_level":80,"signal_date":"{{new DateTimeOffset(2026, 2, 1, 0, 0, 0, TimeSpan.Zero).AddSeconds(i).ToString("O", CultureInfo.InvariantCulture)}}"}""");
}

/// <summary>The broker saving its state every second (<c>Telemetry:Broker:AutosaveInterval</c>), for the SIGKILL test.</summary>
public sealed class AutosavingTelemetryFactory : TelemetryFactory
{
    public AutosavingTelemetryFactory() => BrokerAutosaveInterval = TimeSpan.FromSeconds(1);
}

/// <summary>
/// A broker killed with SIGKILL saves nothing on the way out: what survives is what its last autosave wrote
/// (<c>autosave_interval</c> in the generated mosquitto.conf; mosquitto's own default is 30 minutes).
/// </summary>
[Trait("Category", "Interop")]
public class TelemetryBrokerKillTests(AutosavingTelemetryFactory factory) : IClassFixture<AutosavingTelemetryFactory>
{
    [Fact]
    public async Task Messages_queued_before_the_last_autosave_survive_a_sigkilled_broker()
    {
        const int count = 12;
        var setup = await factory.BookkeepAsync("Broker Kill Telecom", "TLM-KIL-1");
        var device = await factory.IssueAsync("TLM-KIL-1");
        await TelemetryFactory.EventuallyAsync(() => Task.FromResult(factory.Logs.RenderedMessages.Any(m =>
            m.StartsWith("Telemetry ingester subscribed to \"devices/+/telemetry\"", StringComparison.Ordinal))), "the default, plain subscription");
        await factory.StopBrokerAsync();
        await factory.StartBrokerWithoutIngesterAsync();

        var published = await factory.PublishLinesAsync(device, "devices/TLM-KIL-1/telemetry", TelemetryBrokerRestartTests.Readings(device, 0, count));
        Assert.True(published.ExitCode == 0, published.Stderr); // PUBACKed, queued in the broker's memory for the ingester
        // Wait for an autosave that began after the last PUBACK, then SIGKILL. The file's time is when a save ended, so the
        // first save seen may have begun before the PUBACK; the one after it began later.
        var acknowledged = DateTime.UtcNow;
        var saved = DateTime.MinValue;
        await TelemetryFactory.EventuallyAsync(() => Task.FromResult((saved = File.GetLastWriteTimeUtc(factory.PersistenceFile)) > acknowledged),
            "an autosave of the persistence file");
        var firstSave = saved;
        await TelemetryFactory.EventuallyAsync(() => Task.FromResult(File.GetLastWriteTimeUtc(factory.PersistenceFile) > firstSave),
            "the next autosave");
        await factory.KillBrokerAsync();
        await factory.StartBrokerAsync();

        await TelemetryFactory.EventuallyAsync(async () =>
            (await setup.Customer.GetFromJsonAsync<PagedList<TelemetryReading>>("/api/devices/TLM-KIL-1/telemetry"))!.Total == count,
            "the readings queued before the kill", TimeSpan.FromSeconds(40));
    }
}
