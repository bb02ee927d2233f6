using System.Globalization;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.Mqtt;
using Onboarding.Telemetry.Pki;

namespace Onboarding.IntegrationTests;

/// <summary>
/// Another host on the telemetry factory's database, key store, device CA and broker, whose ingester uses the given MQTT
/// client id and <c>$share/</c> group ("" = the plain default): an ingester restarted with other settings.
/// </summary>
public sealed class IngesterHost : OnboardingFactory
{
    public IngesterHost(TelemetryFactory broker, string clientId, string? group, int? internalPort = null)
    {
        ShareDatabaseWith(broker);
        With("Telemetry:Enabled", "true");
        With("Telemetry:CaDirectory", broker.CaDirectory);
        With("Telemetry:Broker:PublicHost", "localhost");
        With("Telemetry:Broker:DevicePort", broker.DevicePort.ToString(CultureInfo.InvariantCulture));
        With("Telemetry:Broker:InternalPort", (internalPort ?? broker.InternalPort).ToString(CultureInfo.InvariantCulture));
        With("Telemetry:Ingestion:FlushInterval", "00:00:00.100");
        With("Telemetry:Ingestion:ClientId", clientId);
        if (group is not null)
            With("Telemetry:Ingestion:SharedSubscriptionGroup", group);
    }

    public Task WaitForLogAsync(string start, string what) =>
        TelemetryFactory.EventuallyAsync(() => Task.FromResult(Logs.RenderedMessages.Any(m => m.StartsWith(start, StringComparison.Ordinal))), what);
}

/// <summary>
/// Switching <c>Telemetry:Ingestion:SharedSubscriptionGroup</c> on an ingester whose persistent session outlives it: the
/// filter no longer wanted is unsubscribed (MQTT 5.0 §3.10), so the session holds only the current ones.
/// </summary>
[Trait("Category", "Interop")]
public class TelemetrySubscriptionSwitchTests(TelemetryFactory factory) : IClassFixture<TelemetryFactory>
{
    private const string SharedTelemetry = "$share/nms-ingest/devices/+/telemetry";
    private const string SharedState = "$share/nms-ingest/devices/+/state";

    [Fact]
    public async Task An_ingester_switched_from_a_shared_group_to_the_default_leaves_no_shared_filter_in_its_session()
    {
        const int count = 12;
        var setup = await factory.BookkeepAsync("Switch Telecom", "TLM-SWI-1");
        var device = await factory.IssueAsync("TLM-SWI-1");
        var clientId = "switch-" + Guid.NewGuid().ToString("N")[..8];

        await RunUntilSubscribedAsync(new IngesterHost(factory, clientId, "nms-ingest"), SharedTelemetry);
        Assert.Equal([SharedState, SharedTelemetry], await RecordedAsync(clientId));

        var plain = new IngesterHost(factory, clientId, group: null); // the default
        try
        {
            await plain.InitializeAsync();
            await plain.WaitForLogAsync($"Telemetry ingester \"{clientId}\" switches from", "the switch to be logged");
            await plain.WaitForLogAsync($"Telemetry ingester \"{clientId}\" unsubscribed \"{SharedTelemetry}\"", "the shared filter's UNSUBACK");
            await plain.WaitForLogAsync("Telemetry ingester subscribed to \"devices/+/telemetry\"", "the plain subscription");
            Assert.Equal(["devices/+/state", "devices/+/telemetry"], await RecordedAsync(clientId));

            // A member of the old group: if the switched session still held the $share/ filter, mosquitto would hand it
            // part of the group's messages and this probe only the rest.
            await using var probe = await ProbeAsync(SharedTelemetry);
            var published = await factory.PublishLinesAsync(device, "devices/TLM-SWI-1/telemetry", TelemetryBrokerRestartTests.Readings(device, 0, count));
            Assert.True(published.ExitCode == 0, published.Stderr);

            await TelemetryFactory.EventuallyAsync(async () => await ReadingsAsync(device) == count, "the readings");
            var received = new HashSet<string>();
            await TelemetryFactory.EventuallyAsync(async () =>
            {
                using var wait = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
                try
                {
                    var message = await probe.Messages.ReadAsync(wait.Token);
                    received.Add(System.Text.Encoding.UTF8.GetString(message.Payload.Span));
                    await probe.AckAsync(message);
                }
                catch (OperationCanceledException)
                {
                    // nothing yet
                }
                return received.Count == count;
            }, "every message for the old group at the probe, none at the switched session");
            Assert.Equal(count, await ReadingsAsync(device)); // stored once each
            Assert.DoesNotContain(plain.Logs.RenderedMessages, m => m.Contains("could not unsubscribe", StringComparison.Ordinal));
        }
        finally
        {
            await plain.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(0x87)] // Not authorized: a refusal, the connection stays up
    [InlineData(0x01)] // not an UNSUBACK reason code: malformed, the client disconnects with 0x81 and reconnects
    public async Task A_refused_or_malformed_unsuback_is_logged_ingestion_goes_on_and_the_filter_is_removed_after_a_reconnect(byte code)
    {
        var serial = $"TLM-UNS-{code:X2}";
        await factory.BookkeepAsync("Unsuback Telecom " + serial, serial);
        var device = await factory.IssueAsync(serial);
        var clientId = "unsuback-" + Guid.NewGuid().ToString("N")[..8];
        await RunUntilSubscribedAsync(new IngesterHost(factory, clientId, "nms-ingest"), SharedTelemetry);

        await using var relay = new UnsubAckTamperingRelay(factory.InternalPort, code, count: 1);
        var plain = new IngesterHost(factory, clientId, group: "", internalPort: relay.Port);
        try
        {
            await plain.InitializeAsync();
            await plain.WaitForLogAsync($"Telemetry ingester \"{clientId}\" could not unsubscribe \"{SharedState}\"", "the failed UNSUBSCRIBE to be logged");
            Assert.Equal(1, relay.Tampered);
            await plain.WaitForLogAsync("Telemetry ingester subscribed to \"devices/+/telemetry\"", "the plain subscription");
            if (code == 0x01)
            {
                // MQTT 5.0 §4.13: the client closed the connection with 0x81 Malformed Packet, and connected again.
                await plain.WaitForLogAsync($"MQTT \"{clientId}\": closing connection with reason 0x81", "the malformed UNSUBACK to close the connection");
                await plain.WaitForLogAsync($"MQTT \"{clientId}\" connection #2", "the reconnect");
            }
            else
            {
                relay.Cut(); // a refusal leaves the connection up; the next connect tries again
            }

            // The failed filter stays recorded until an UNSUBSCRIBE after a later CONNACK succeeds.
            await TelemetryFactory.EventuallyAsync(async () => (await RecordedAsync(clientId)).SequenceEqual(["devices/+/state", "devices/+/telemetry"]),
                "the stale filter to be unsubscribed after the reconnect");
            await plain.WaitForLogAsync($"Telemetry ingester \"{clientId}\" unsubscribed \"{SharedState}\"", "the retried UNSUBSCRIBE");

            // The ingester kept running throughout: telemetry still arrives.
            var published = await factory.PublishLinesAsync(device, $"devices/{serial}/telemetry", TelemetryBrokerRestartTests.Readings(device, 0, 3));
            Assert.True(published.ExitCode == 0, published.Stderr);
            await TelemetryFactory.EventuallyAsync(async () => await ReadingsAsync(device) == 3, "the readings");
        }
        finally
        {
            await plain.DisposeAsync();
        }
    }

    private static async Task RunUntilSubscribedAsync(IngesterHost host, string filter)
    {
        try
        {
            await host.InitializeAsync();
            await host.WaitForLogAsync($"Telemetry ingester subscribed to \"{filter}\"", filter);
        }
        finally
        {
            await host.DisposeAsync(); // DISCONNECT: the broker keeps the session (Session Expiry 24 h) and its filters
        }
    }

    private async Task<List<string>> RecordedAsync(string clientId)
    {
        await using var connection = new Npgsql.NpgsqlConnection(factory.ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT filter FROM telemetry.ingester_subscriptions WHERE client_id = $1 ORDER BY filter", connection);
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = clientId });
        var filters = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            filters.Add(reader.GetString(0));
        return filters;
    }

    private Task<long> ReadingsAsync(DeviceCredentialFiles device) =>
        factory.CountAsync("SELECT count(*) FROM telemetry.readings WHERE device_name = $1", device.Credential.DeviceName);

    /// <summary>An MQTT client on the internal listener, as the ingester's user, subscribed to <paramref name="filter"/> on a clean session.</summary>
    private async Task<MqttClient> ProbeAsync(string filter)
    {
        string secret;
        using (var ca = DeviceCertificateAuthority.LoadOrCreate(factory.CaDirectory))
            secret = ca.IngesterSecret;
        var probe = new MqttClient(new MqttClientOptions
        {
            Host = "127.0.0.1",
            Port = factory.InternalPort,
            ClientId = "probe-" + Guid.NewGuid().ToString("N")[..8],
            UserName = "nms-ingester",
            Password = secret,
            ProtocolVersion = MqttProtocolVersion.V500,
            CleanStart = true,
            SessionExpiryInterval = 0,
        });
        await probe.ConnectAsync();
        await probe.SubscribeAsync(filter, MqttQualityOfService.AtLeastOnce);
        return probe;
    }
}
