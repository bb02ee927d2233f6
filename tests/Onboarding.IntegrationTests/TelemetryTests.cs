using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.Inventory.Api;
using Onboarding.Mqtt;
using Onboarding.ServiceDefaults.Http;
using Onboarding.ServiceDefaults.Security;
using Onboarding.Telemetry.Api;

namespace Onboarding.IntegrationTests;

/// <summary>
/// Telemetry end to end: credentials issued by the admin API, a real mosquitto configured by the host's own
/// generator, mosquitto_pub as the device, and the ingester writing to PostgreSQL.
/// </summary>
[Trait("Category", "Interop")]
public class TelemetryTests(TelemetryFactory factory) : IClassFixture<TelemetryFactory>
{
    private static string Reading(string serial, long deviceName, DateTimeOffset at, double battery = 87.5, string extra = "") =>
        $$"""{"device_id":"{{serial}}","device_name":{{deviceName}},"latitude":48.1372,"longitude":11.5756,"battery_level":{{battery.ToString(System.Globalization.CultureInfo.InvariantCulture)}},"signal_date":"{{at.UtcDateTime:O}}"{{extra}}}""";

    /// <summary>Our MQTT client as a device on the broker's TLS listener, with the device's issued certificate; no reconnects.</summary>
    private MqttClient DeviceClient(X509Certificate2 certificate, string clientId) => new(new MqttClientOptions
    {
        Host = "127.0.0.1",
        Port = factory.DevicePort,
        ClientId = clientId,
        AutoReconnect = false,
        Tls = new MqttTlsOptions
        {
            ClientCertificate = certificate,
            TrustedCertificateAuthorities = [X509Certificate2.CreateFromPem(File.ReadAllText(factory.CaCertificatePath))],
            TargetHost = "localhost",
        },
    });

    private static async Task<PagedList<TelemetryReading>> ReadingsAsync(HttpClient customer, string serial) =>
        (await customer.GetFromJsonAsync<PagedList<TelemetryReading>>($"/api/devices/{serial}/telemetry"))!;

    [Fact]
    public async Task A_device_publishing_with_its_issued_certificate_lands_in_the_database()
    {
        var setup = await factory.BookkeepAsync("Telemetry Telecom", "TLM-OK-1");
        var device = await factory.IssueAsync("TLM-OK-1");
        Assert.True(device.Credential.DeviceName >= 1_000_001);
        Assert.Equal("TLM-OK-1", device.Credential.DeviceId);
        Assert.Equal("telemetry", device.Credential.DeviceFunction);
        Assert.Equal(factory.DevicePort, device.Credential.Broker.Port);
        var at = DateTimeOffset.UtcNow.AddMinutes(-1);

        var published = await factory.PublishAsync(device, "devices/TLM-OK-1/telemetry",
            Reading("TLM-OK-1", device.Credential.DeviceName, at, extra: ",\"temperature\":21.5"));

        Assert.True(published.ExitCode == 0, published.Stderr);
        await TelemetryFactory.EventuallyAsync(async () => (await ReadingsAsync(setup.Customer, "TLM-OK-1")).Total == 1, "the reading");
        var reading = (await ReadingsAsync(setup.Customer, "TLM-OK-1")).Items[0];
        Assert.Equal(87.5, reading.BatteryLevel);
        Assert.Equal(21.5, reading.Metrics["temperature"]);
        Assert.Equal(device.Credential.DeviceName, reading.DeviceName);

        var latest = (await setup.Customer.GetFromJsonAsync<TelemetryReading>("/api/devices/TLM-OK-1/telemetry/latest"))!;
        Assert.Equal(at.ToUnixTimeMilliseconds(), latest.SignalDate.ToUnixTimeMilliseconds());
        var hourly = (await setup.Customer.GetFromJsonAsync<List<HourlyAggregate>>("/api/devices/TLM-OK-1/telemetry/hourly"))!;
        Assert.Contains(hourly, h => h.Metric == "temperature" && h.Avg == 21.5 && h.Count == 1);
        var csv = await setup.Customer.GetStringAsync("/api/devices/TLM-OK-1/telemetry.csv");
        Assert.StartsWith("device_id,device_name,signal_date", csv, StringComparison.Ordinal);
        Assert.Contains("TLM-OK-1," + device.Credential.DeviceName, csv, StringComparison.Ordinal);

        // Another customer's device does not exist for this one.
        var (other, _) = await factory.SignUpAsync("Nosy Telecom");
        await Problem.AssertAsync(await other.GetAsync("/api/devices/TLM-OK-1/telemetry"), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await other.GetAsync("/api/devices/TLM-OK-1/telemetry/latest"), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await other.GetAsync("/api/devices/TLM-OK-1/telemetry/hourly"), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await other.GetAsync("/api/devices/TLM-OK-1/telemetry.csv"), HttpStatusCode.NotFound);
        Assert.DoesNotContain((await other.GetFromJsonAsync<List<TelemetryReading>>("/api/telemetry/latest"))!, r => r.DeviceId == "TLM-OK-1");
    }

    [Fact]
    public async Task Telemetry_knows_a_device_by_its_inventory_id_and_the_same_serial_at_another_customer_sees_nothing()
    {
        var owner = await factory.BookkeepAsync("Identity Telecom", "TLM-ID-1");
        var device = await factory.IssueAsync("TLM-ID-1");
        var id = (await owner.Customer.GetFromJsonAsync<DeviceDetails>("/api/devices/TLM-ID-1"))!.Id;
        Assert.Equal(1, await factory.CountAsync("SELECT count(*) FROM telemetry.devices WHERE device_id = $1 AND serial_number = 'TLM-ID-1'", id.Value));
        Assert.Equal(0, (await factory.PublishAsync(device, "devices/TLM-ID-1/telemetry",
            Reading("TLM-ID-1", device.Credential.DeviceName, DateTimeOffset.UtcNow.AddMinutes(-1)))).ExitCode);
        await TelemetryFactory.EventuallyAsync(async () => (await ReadingsAsync(owner.Customer, "TLM-ID-1")).Total == 1, "the reading");

        // Another customer bookkeeps a device with the same serial: its own device, with no telemetry of its own.
        var namesake = await factory.BookkeepAsync("Namesake Telecom", "TLM-ID-1");

        Assert.Equal(0, (await ReadingsAsync(namesake.Customer, "TLM-ID-1")).Total);
        await Problem.AssertAsync(await namesake.Customer.GetAsync("/api/devices/TLM-ID-1/telemetry/latest"), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await namesake.Customer.GetAsync("/api/devices/TLM-ID-1/twin"), HttpStatusCode.NotFound);
        Assert.DoesNotContain("TLM-ID-1,", await namesake.Customer.GetStringAsync("/api/devices/TLM-ID-1/telemetry.csv"), StringComparison.Ordinal);
        Assert.Empty((await namesake.Customer.GetFromJsonAsync<List<HourlyAggregate>>("/api/devices/TLM-ID-1/telemetry/hourly"))!);
        Assert.Equal(1, (await ReadingsAsync(owner.Customer, "TLM-ID-1")).Total);
        Assert.Equal("TLM-ID-1", (await owner.Customer.GetFromJsonAsync<DeviceTwin>("/api/devices/TLM-ID-1/twin"))!.DeviceId);
    }

    [Fact]
    public async Task The_fleet_csv_streams_every_reading_of_the_callers_devices_and_no_one_elses()
    {
        var setup = await factory.BookkeepAsync("Spark Telecom", "TLM-CSV-2", "TLM-CSV-1");
        var first = await factory.IssueAsync("TLM-CSV-1");
        var second = await factory.IssueAsync("TLM-CSV-2");
        var nosy = await factory.BookkeepAsync("Other Spark Telecom", "TLM-CSV-X");
        var foreign = await factory.IssueAsync("TLM-CSV-X");
        var start = new DateTimeOffset(2026, 11, 20, 8, 0, 0, TimeSpan.Zero);
        foreach (var (device, serial) in new[] { (first, "TLM-CSV-1"), (second, "TLM-CSV-2"), (foreign, "TLM-CSV-X") })
        {
            // Published newest first: the export is oldest first all the same.
            var lines = Enumerable.Range(0, 3).Reverse()
                .Select(i => Reading(serial, device.Credential.DeviceName, start.AddMinutes(i).AddTicks(10 * 123), extra: $",\"seq\":{i}")).ToList();
            Assert.Equal(0, (await factory.PublishLinesAsync(device, $"devices/{serial}/telemetry", lines)).ExitCode);
        }
        await TelemetryFactory.EventuallyAsync(async () => (await ReadingsAsync(setup.Customer, "TLM-CSV-2")).Total == 3
            && (await ReadingsAsync(setup.Customer, "TLM-CSV-1")).Total == 3 && (await ReadingsAsync(nosy.Customer, "TLM-CSV-X")).Total == 3, "all readings");

        var response = await setup.Customer.GetAsync("/api/telemetry/readings.csv");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var csv = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("device_id,device_name,signal_date,latitude,longitude,battery_level,metrics", csv[0]);
        Assert.Equal(7, csv.Length);
        Assert.Equal(["TLM-CSV-1", "TLM-CSV-1", "TLM-CSV-1", "TLM-CSV-2", "TLM-CSV-2", "TLM-CSV-2"], csv.Skip(1).Select(l => l.Split(',')[0]));
        Assert.StartsWith($"TLM-CSV-1,{first.Credential.DeviceName},2026-11-20T08:00:00.000123Z,48.1372,11.5756,87.5,", csv[1], StringComparison.Ordinal);
        Assert.EndsWith("\"{\"\"seq\"\":0}\"", csv[1], StringComparison.Ordinal);
        Assert.StartsWith("TLM-CSV-1," + first.Credential.DeviceName + ",2026-11-20T08:02:00", csv[3], StringComparison.Ordinal);

        // A range: from inclusive, to exclusive. An empty or inverted range is refused.
        var range = await setup.Customer.GetStringAsync("/api/telemetry/readings.csv?from=2026-11-20T08:01:00Z&to=2026-11-20T08:02:00Z");
        Assert.Equal(["TLM-CSV-1", "TLM-CSV-2"], range.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(',')[0]));
        await Problem.AssertValidationAsync(await setup.Customer.GetAsync("/api/telemetry/readings.csv?from=2026-11-20T09:00:00Z&to=2026-11-20T08:00:00Z"), "to");
        await Problem.AssertValidationAsync(await setup.Customer.GetAsync("/api/devices/TLM-CSV-1/telemetry.csv?from=2026-11-20T09:00:00Z&to=2026-11-20T09:00:00Z"), "to");

        // The other customer sees only its own device.
        var theirs = (await nosy.Customer.GetStringAsync("/api/telemetry/readings.csv")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["TLM-CSV-X", "TLM-CSV-X", "TLM-CSV-X"], theirs.Skip(1).Select(l => l.Split(',')[0]));
        using var anonymous = factory.CreateClient();
        await Problem.AssertAsync(await anonymous.GetAsync("/api/telemetry/readings.csv"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Duplicate_delivery_of_a_message_is_stored_once()
    {
        var setup = await factory.BookkeepAsync("Duplicate Telecom", "TLM-DUP-1");
        var device = await factory.IssueAsync("TLM-DUP-1");
        var payload = Reading("TLM-DUP-1", device.Credential.DeviceName, DateTimeOffset.UtcNow.AddSeconds(-30));

        Assert.Equal(0, (await factory.PublishAsync(device, "devices/TLM-DUP-1/telemetry", payload)).ExitCode);
        Assert.Equal(0, (await factory.PublishAsync(device, "devices/TLM-DUP-1/telemetry", payload)).ExitCode);
        var marker = Reading("TLM-DUP-1", device.Credential.DeviceName, DateTimeOffset.UtcNow);
        Assert.Equal(0, (await factory.PublishAsync(device, "devices/TLM-DUP-1/telemetry", marker)).ExitCode);

        await TelemetryFactory.EventuallyAsync(async () => (await ReadingsAsync(setup.Customer, "TLM-DUP-1")).Total >= 2, "both readings");
        await Task.Delay(300);
        Assert.Equal(2, (await ReadingsAsync(setup.Customer, "TLM-DUP-1")).Total);
    }

    [Fact]
    public async Task A_device_cannot_report_for_another_device()
    {
        var setup = await factory.BookkeepAsync("Impostor Telecom", "TLM-A", "TLM-B");
        var a = await factory.IssueAsync("TLM-A");
        var b = await factory.IssueAsync("TLM-B");

        // The broker's pattern ACL keeps A out of B's topics: the message never reaches the ingester.
        await factory.PublishAsync(a, "devices/TLM-B/telemetry", Reading("TLM-B", b.Credential.DeviceName, DateTimeOffset.UtcNow.AddSeconds(-5)));
        // On its own topic, A cannot claim to be B either: the ingester dead-letters it.
        await factory.PublishAsync(a, "devices/TLM-A/telemetry", Reading("TLM-B", b.Credential.DeviceName, DateTimeOffset.UtcNow.AddSeconds(-4)));
        // Nor use another device_name than the one issued to it.
        await factory.PublishAsync(a, "devices/TLM-A/telemetry", Reading("TLM-A", b.Credential.DeviceName, DateTimeOffset.UtcNow.AddSeconds(-3)));
        Assert.Equal(0, (await factory.PublishAsync(a, "devices/TLM-A/telemetry", Reading("TLM-A", a.Credential.DeviceName, DateTimeOffset.UtcNow))).ExitCode);

        await TelemetryFactory.EventuallyAsync(async () => (await ReadingsAsync(setup.Customer, "TLM-A")).Total == 1, "A's own reading");
        await TelemetryFactory.EventuallyAsync(async () => await factory.CountAsync(
            "SELECT count(*) FROM telemetry.dead_letters WHERE topic = 'devices/TLM-A/telemetry'") == 2, "two dead letters");
        Assert.Equal(0, (await ReadingsAsync(setup.Customer, "TLM-B")).Total);
        Assert.Equal(1, await factory.CountAsync(
            "SELECT count(*) FROM telemetry.dead_letters WHERE topic = 'devices/TLM-A/telemetry' AND reason LIKE '%is not the serial in the topic%'"));
        Assert.Equal(0, await factory.CountAsync("SELECT count(*) FROM telemetry.dead_letters WHERE topic = 'devices/TLM-B/telemetry'"));
    }

    [Fact]
    public async Task A_topic_with_a_serial_longer_than_any_device_can_have_is_dead_lettered_with_the_reason()
    {
        // No device certificate carries such a serial; the internal listener's user may publish under devices/#.
        var serial = "TLM-LONG-" + new string('9', 56); // 65 characters
        var topic = $"devices/{serial}/telemetry";
        var secret = File.ReadAllText(Path.Combine(factory.CaDirectory, Onboarding.Telemetry.Pki.DeviceCertificateAuthority.IngesterSecretFileName)).Trim();

        // QoS 1 to a shared subscription not made yet is dropped, and the ingester may still be subscribing: publish until it arrives.
        await TelemetryFactory.EventuallyAsync(async () =>
        {
            if (await factory.CountAsync($"SELECT count(*) FROM telemetry.dead_letters WHERE topic = '{topic}'") > 0)
                return true;
            var published = await ExternalTool.RunAsync("mosquitto_pub",
            [
                "-h", "127.0.0.1", "-p", factory.InternalPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "-V", "mqttv5", "-q", "1",
                "-u", "nms-ingester", "-P", secret, "-t", topic, "-m", "{}",
            ], timeout: TimeSpan.FromSeconds(30));
            Assert.Equal(0, published.ExitCode);
            await Task.Delay(400);
            return false;
        }, "a dead letter");

        Assert.Equal(0, await factory.CountAsync($"SELECT count(*) FROM telemetry.dead_letters WHERE topic = '{topic}' "
            + "AND reason <> 'the topic is not devices/<serial>/telemetry or /state with a serial of at most 64 characters'"));
    }

    [Fact]
    public async Task A_malformed_payload_is_dead_lettered_with_its_reason_and_raw_bytes()
    {
        await factory.BookkeepAsync("Malformed Telecom", "TLM-BAD-1");
        var device = await factory.IssueAsync("TLM-BAD-1");

        Assert.Equal(0, (await factory.PublishAsync(device, "devices/TLM-BAD-1/telemetry", "{not json")).ExitCode);
        Assert.Equal(0, (await factory.PublishAsync(device, "devices/TLM-BAD-1/telemetry",
            """{"device_id":"TLM-BAD-1","device_name":1,"latitude":1,"longitude":2,"signal_date":"2026-01-01T00:00:00Z"}""")).ExitCode);

        await TelemetryFactory.EventuallyAsync(async () => await factory.CountAsync(
            "SELECT count(*) FROM telemetry.dead_letters WHERE topic = 'devices/TLM-BAD-1/telemetry'") == 2, "two dead letters");
        Assert.Equal(1, await factory.CountAsync(
            "SELECT count(*) FROM telemetry.dead_letters WHERE topic = 'devices/TLM-BAD-1/telemetry' AND reason LIKE 'not JSON%' AND payload = convert_to('{not json', 'UTF8')"));
        Assert.Equal(1, await factory.CountAsync(
            "SELECT count(*) FROM telemetry.dead_letters WHERE topic = 'devices/TLM-BAD-1/telemetry' AND reason = 'missing battery_level'"));
    }

    [Fact]
    public async Task A_revoked_device_is_refused_by_the_broker()
    {
        var setup = await factory.BookkeepAsync("Revoked Telecom", "TLM-REV-1");
        var device = await factory.IssueAsync("TLM-REV-1");
        Assert.Equal(0, (await factory.PublishAsync(device, "devices/TLM-REV-1/telemetry",
            Reading("TLM-REV-1", device.Credential.DeviceName, DateTimeOffset.UtcNow.AddSeconds(-10)))).ExitCode);
        await TelemetryFactory.EventuallyAsync(async () => (await ReadingsAsync(setup.Customer, "TLM-REV-1")).Total == 1, "the first reading");

        using var admin = factory.CreateAdminClient();
        var revoke = await admin.PostAsync("/api/devices/TLM-REV-1/telemetry-credential/revoke", null);
        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        Assert.Equal(1, (await revoke.Content.ReadFromJsonAsync<CredentialRevocation>())!.RevokedCertificates);
        Assert.Contains(factory.Logs.RenderedMessages, m => m.StartsWith("Asked mosquitto", StringComparison.Ordinal));
        await Task.Delay(500); // the host sent mosquitto SIGHUP (Broker:PidFile); give it a moment to reread the CRL

        var refused = await factory.PublishAsync(device, "devices/TLM-REV-1/telemetry",
            Reading("TLM-REV-1", device.Credential.DeviceName, DateTimeOffset.UtcNow));
        Assert.NotEqual(0, refused.ExitCode);
        await Task.Delay(500);
        Assert.Equal(1, (await ReadingsAsync(setup.Customer, "TLM-REV-1")).Total);
    }

    [Fact]
    public async Task A_device_connected_when_it_is_revoked_is_disconnected_and_cannot_reconnect()
    {
        await factory.BookkeepAsync("Connected Revoked Telecom", "TLM-REV-2");
        var device = await factory.IssueAsync("TLM-REV-2");
        using var certificate = X509Certificate2.CreateFromPemFile(device.CertificatePath, device.KeyPath);
        await using var connected = DeviceClient(certificate, "anything-1"); // the broker replaces the client id with the serial
        await connected.ConnectAsync();
        Assert.True(connected.IsConnected);

        using var admin = factory.CreateAdminClient();
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/api/devices/TLM-REV-2/telemetry-credential/revoke", null)).StatusCode);

        await TelemetryFactory.EventuallyAsync(() => Task.FromResult(!connected.IsConnected), "the broker to end the revoked device's connection", TimeSpan.FromSeconds(10));
        await using var again = DeviceClient(certificate, "anything-2");
        await Assert.ThrowsAnyAsync<Exception>(() => again.ConnectAsync());
    }

    [Fact]
    public async Task A_device_cannot_take_over_another_devices_session()
    {
        await factory.BookkeepAsync("Session Telecom", "TLM-SES-A", "TLM-SES-B");
        var a = await factory.IssueAsync("TLM-SES-A");
        var b = await factory.IssueAsync("TLM-SES-B");
        using var certificateA = X509Certificate2.CreateFromPemFile(a.CertificatePath, a.KeyPath);
        using var certificateB = X509Certificate2.CreateFromPemFile(b.CertificatePath, b.KeyPath);
        await using var deviceB = DeviceClient(certificateB, "TLM-SES-B");
        await deviceB.ConnectAsync();

        // A asks for B's client id; the broker gives it A's serial instead, so B stays connected.
        await using var deviceA = DeviceClient(certificateA, "TLM-SES-B");
        await deviceA.ConnectAsync();
        await Task.Delay(500);
        Assert.True(deviceA.IsConnected);
        Assert.True(deviceB.IsConnected);
    }

    [Fact]
    public async Task Credentials_are_numbered_and_every_issuance_is_in_the_history()
    {
        await factory.BookkeepAsync("History Telecom", "TLM-H-1", "TLM-H-2");
        var first = await factory.IssueAsync("TLM-H-1");
        var second = await factory.IssueAsync("TLM-H-2");
        var again = await factory.IssueAsync("TLM-H-1");

        Assert.True(second.Credential.DeviceName > first.Credential.DeviceName);
        Assert.Equal(first.Credential.DeviceName, again.Credential.DeviceName);
        Assert.NotEqual(first.Credential.CertificatePem, again.Credential.CertificatePem);

        using var admin = factory.CreateAdminClient();
        var csv = await admin.GetStringAsync("/api/telemetry/credentials/history.csv");
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("device_id,device_name,credential_creation_date", lines[0]);
        Assert.Equal(2, lines.Count(l => l.StartsWith($"TLM-H-1,{first.Credential.DeviceName},", StringComparison.Ordinal)));
        Assert.Single(lines, l => l.StartsWith($"TLM-H-2,{second.Credential.DeviceName},", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Concurrent_first_issuances_for_one_serial_both_succeed_with_one_device_name()
    {
        await factory.BookkeepAsync("Racing Telecom", "TLM-RACE-1");
        using var admin = factory.CreateAdminClient();
        var responses = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => admin.PostAsync("/api/devices/TLM-RACE-1/telemetry-credential", null)));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var names = await Task.WhenAll(responses.Select(async r =>
            System.Text.Json.JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("device_name").GetInt64()));
        Assert.Single(names.Distinct());
    }

    [Fact]
    public async Task Telemetry_queries_validate_paging_and_dates()
    {
        var (customer, _) = await factory.SignUpAsync("Paging Telemetry Telecom");
        await Problem.AssertValidationAsync(await customer.GetAsync("/api/devices/ANY/telemetry?pageSize=0"), "pageSize");
        await Problem.AssertValidationAsync(await customer.GetAsync("/api/devices/ANY/telemetry?page=2147483647&pageSize=500"), "page");
        await Problem.AssertAsync(await customer.GetAsync("/api/devices/ANY/telemetry?from=yesterday"), HttpStatusCode.BadRequest);
        // An inverted or empty range is refused by every endpoint that takes one (before the serial is looked up).
        foreach (var path in new[] { "/api/devices/ANY/telemetry", "/api/devices/ANY/telemetry/hourly", "/api/devices/ANY/telemetry.csv", "/api/telemetry/readings.csv" })
        {
            await Problem.AssertValidationAsync(await customer.GetAsync(path + "?from=2026-11-20T09:00:00Z&to=2026-11-20T08:00:00Z"), "to");
            await Problem.AssertValidationAsync(await customer.GetAsync(path + "?from=2026-11-20T09:00:00Z&to=2026-11-20T09:00:00Z"), "to");
        }
        await Problem.AssertAsync(await customer.GetAsync("/api/devices/ANY/telemetry"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Credentials_for_an_unknown_serial_are_not_found()
    {
        using var admin = factory.CreateAdminClient();
        await Problem.AssertAsync(await admin.PostAsync("/api/devices/NO-SUCH-SERIAL/telemetry-credential", null), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await admin.PostAsync("/api/devices/NO-SUCH-SERIAL/telemetry-credential/revoke", null), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await admin.PutAsJsonAsync("/api/devices/NO-SUCH-SERIAL/telemetry-function", new DeviceFunctionChange("router")),
            HttpStatusCode.NotFound);
        await Problem.AssertAsync(await admin.PutAsJsonAsync("/api/devices/NO-SUCH-SERIAL/telemetry-function", new DeviceFunctionChange(new string('x', 101))),
            HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("POST", "/api/devices/TLM-ANY/telemetry-credential")]
    [InlineData("POST", "/api/devices/TLM-ANY/telemetry-credential/revoke")]
    [InlineData("GET", "/api/telemetry/credentials/history.csv")]
    [InlineData("PUT", "/api/devices/TLM-ANY/telemetry-function")]
    [InlineData("PUT", "/api/telemetry/customers/01a1fcb6-c6d7-78a9-b1e1-621c877feb29/device-function")]
    public async Task Admin_endpoints_refuse_customers_and_anonymous_callers(string method, string path)
    {
        // A well-formed body, so the refusal comes from the admin check and not from model binding.
        HttpRequestMessage Request() => new(new HttpMethod(method), path) { Content = JsonContent.Create(new DeviceFunctionChange("x")) };
        var (customer, _) = await factory.SignUpAsync("Curious Telecom");
        await Problem.AssertAsync(await customer.SendAsync(Request()), HttpStatusCode.Forbidden);

        using var anonymous = factory.CreateClient();
        await Problem.AssertAsync(await anonymous.SendAsync(Request()), HttpStatusCode.Unauthorized);

        using var wrongKey = factory.CreateClient();
        wrongKey.DefaultRequestHeaders.Add(AdminKey.HeaderName, "not-the-admin-key");
        await Problem.AssertAsync(await wrongKey.SendAsync(Request()), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task The_admin_key_is_never_logged()
    {
        using var admin = factory.CreateAdminClient();
        await admin.GetStringAsync("/api/telemetry/credentials/history.csv");
        Assert.DoesNotContain(factory.Logs.RenderedMessages, m => m.Contains(TelemetryFactory.AdminApiKey, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_database_outage_mid_run_loses_no_message()
    {
        var setup = await factory.BookkeepAsync("Outage Telecom", "TLM-OUT-1");
        var device = await factory.IssueAsync("TLM-OUT-1");
        var start = DateTimeOffset.UtcNow.AddHours(-1);
        var payloads = Enumerable.Range(0, 200)
            .Select(i => Reading("TLM-OUT-1", device.Credential.DeviceName, start.AddSeconds(i), battery: 100 - (i / 10))).ToList();

        // The readings table disappears while the device streams, and every server process of the database is
        // terminated: each write fails part-way. The ingester must retry, and ack only what committed.
        await factory.ExecuteAsync("ALTER TABLE telemetry.readings RENAME TO readings_offline");
        try
        {
            var published = await factory.PublishLinesAsync(device, "devices/TLM-OUT-1/telemetry", payloads);
            Assert.True(published.ExitCode == 0, published.Stderr);
            await TelemetryFactory.EventuallyAsync(() => Task.FromResult(
                factory.Logs.RenderedMessages.Any(m => m.Contains("not written; retrying", StringComparison.Ordinal))), "a failed write");
            await factory.ExecuteAsync(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
            // The test's own pooled connections were terminated too, and so were the host's idle ones (the API's data source is
            // not among "all pools"; a request meeting one answers 503, see HostTests). The ingester, which has its own
            // connection, must recover by itself.
            Npgsql.NpgsqlConnection.ClearAllPools();
            factory.Services.GetRequiredService<Npgsql.NpgsqlDataSource>().Clear();
        }
        finally
        {
            await factory.ExecuteAsync("ALTER TABLE telemetry.readings_offline RENAME TO readings");
        }

        await TelemetryFactory.EventuallyAsync(async () => await factory.CountAsync(
            "SELECT count(*) FROM telemetry.readings r JOIN telemetry.devices d USING (device_name) WHERE d.serial_number = 'TLM-OUT-1'") == 200, "all 200 readings", TimeSpan.FromSeconds(60));
        Assert.Equal(200, (await ReadingsAsync(setup.Customer, "TLM-OUT-1")).Total);
        Assert.Equal(0, await factory.CountAsync("SELECT count(*) FROM telemetry.dead_letters WHERE topic = 'devices/TLM-OUT-1/telemetry'"));
    }

    [Fact]
    public async Task A_reading_the_database_refuses_is_dead_lettered_and_does_not_hold_up_the_others()
    {
        var setup = await factory.BookkeepAsync("Poison Telecom", "TLM-POISON-1");
        var device = await factory.IssueAsync("TLM-POISON-1");
        var start = DateTimeOffset.UtcNow.AddMinutes(-10);
        // A rule the parser does not know, as an operator's CHECK constraint (or trigger) would add: only the database can
        // refuse the reading. Retrying its batch would never succeed and would stop every reading behind it.
        await factory.ExecuteAsync("ALTER TABLE telemetry.readings ADD CONSTRAINT operator_rule CHECK (NOT ('poison' = ANY (metric_names)))");
        try
        {
            var payloads = Enumerable.Range(0, 20).Select(i => Reading("TLM-POISON-1", device.Credential.DeviceName, start.AddSeconds(i),
                extra: i == 7 ? ",\"poison\":1" : "")).ToList();

            var published = await factory.PublishLinesAsync(device, "devices/TLM-POISON-1/telemetry", payloads);

            Assert.True(published.ExitCode == 0, published.Stderr);
            await TelemetryFactory.EventuallyAsync(async () => (await ReadingsAsync(setup.Customer, "TLM-POISON-1")).Total == 19, "the 19 other readings");
            await TelemetryFactory.EventuallyAsync(async () => await factory.CountAsync(
                "SELECT count(*) FROM telemetry.dead_letters WHERE topic = 'devices/TLM-POISON-1/telemetry' "
                + "AND reason LIKE 'refused by the database: 23514%operator_rule%' AND payload = convert_to('" + payloads[7] + "', 'UTF8')") == 1,
                "the refused reading's dead letter");
            Assert.DoesNotContain((await ReadingsAsync(setup.Customer, "TLM-POISON-1")).Items, r => r.SignalDate == start.AddSeconds(7));
        }
        finally
        {
            await factory.ExecuteAsync("ALTER TABLE telemetry.readings DROP CONSTRAINT operator_rule");
        }
    }

    [Fact]
    public async Task The_device_simulator_streams_readings_with_a_battery_that_drops_every_ten_messages()
    {
        var setup = await factory.BookkeepAsync("Simulated Telecom", "TLM-SIM-1", "TLM-SIM-2");
        var files = new List<string>();
        foreach (var serial in new[] { "TLM-SIM-1", "TLM-SIM-2" })
        {
            var device = await factory.IssueAsync(serial);
            var file = Path.Combine(Path.GetDirectoryName(device.CertificatePath)!, "credential.json");
            await File.WriteAllTextAsync(file, System.Text.Json.JsonSerializer.Serialize(device.Credential));
            files.Add(file);
        }

        var sent = await Onboarding.DeviceSim.Telemetry.TelemetrySimulation.RunAsync(
            new Onboarding.DeviceSim.Telemetry.SimulationSettings(files, 25, TimeSpan.Zero, "localhost", null), TextWriter.Null, CancellationToken.None);

        Assert.Equal(50, sent);
        await TelemetryFactory.EventuallyAsync(async () => await factory.CountAsync(
            "SELECT count(*) FROM telemetry.readings r JOIN telemetry.devices d USING (device_name) WHERE d.serial_number LIKE 'TLM-SIM-%'") == 50, "50 readings");
        var page = await ReadingsAsync(setup.Customer, "TLM-SIM-2");
        Assert.Equal([100.0, 99.0, 98.0], page.Items.Select(r => r.BatteryLevel).Distinct().Order().Reverse());
        Assert.Equal(10, page.Items.Count(r => r.BatteryLevel == 99));
        Assert.All(page.Items, r => Assert.True(r.Metrics.ContainsKey("temperature")));
    }

    [Fact]
    public async Task The_ingester_reconnects_and_resumes_after_a_broker_restart()
    {
        var setup = await factory.BookkeepAsync("Restart Telecom", "TLM-RST-1");
        var device = await factory.IssueAsync("TLM-RST-1");
        int Connections() => factory.Logs.RenderedMessages.Count(m => m.StartsWith("MQTT \"ingester-", StringComparison.Ordinal)
            && m.Contains(" established ", StringComparison.Ordinal));
        var before = Connections();

        await factory.RestartBrokerAsync();

        // mosquitto 2.0.11 does not queue for a persisted session's subscriptions until that client reconnects
        // (README, Telemetry): the ingester reconnects, renews its subscription, and ingestion resumes.
        await TelemetryFactory.EventuallyAsync(() => Task.FromResult(Connections() > before), "the ingester to reconnect");
        await Task.Delay(300);
        var published = await factory.PublishAsync(device, "devices/TLM-RST-1/telemetry",
            Reading("TLM-RST-1", device.Credential.DeviceName, new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)));
        Assert.True(published.ExitCode == 0, published.Stderr);
        await TelemetryFactory.EventuallyAsync(async () => (await ReadingsAsync(setup.Customer, "TLM-RST-1")).Total == 1, "the reading");
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void The_broker_config_command_writes_certificate_authentication_and_one_pattern_acl()
    {
        var directory = Path.Combine(factory.Root.FullName, "broker-config-" + Guid.NewGuid().ToString("N")[..8]);

        var config = File.ReadAllText(Onboarding.Telemetry.TelemetryModule.WriteBrokerConfiguration(factory.Services, directory));

        Assert.Contains("require_certificate true", config, StringComparison.Ordinal);
        Assert.Contains("use_identity_as_username true", config, StringComparison.Ordinal);
        Assert.Contains($"cafile {factory.CaCertificatePath}", config, StringComparison.Ordinal);
        Assert.Contains("crlfile ", config, StringComparison.Ordinal);
        Assert.Contains("persistence true", config, StringComparison.Ordinal);
        // Saved every 30 s, not only at shutdown (mosquitto's own default is 1800 s): what a SIGKILLed broker can lose.
        Assert.Contains("autosave_interval 30\n", config, StringComparison.Ordinal);
        Assert.Contains("autosave_on_changes false\n", config, StringComparison.Ordinal);
        Assert.Equal("pattern readwrite devices/%u/#\n", File.ReadAllText(Path.Combine(directory, "devices.acl")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(directory, "server.key")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite,
            File.GetUnixFileMode(Path.Combine(factory.CaDirectory, Onboarding.Telemetry.Pki.DeviceCertificateAuthority.KeyFileName)));
        // An absolute output directory is an operand of the command, not a "/key value" configuration switch.
        Assert.Equal(["--Telemetry:Enabled=true"], Onboarding.Host.HostCommands.ConfigurationArguments(["broker-config", "/etc/x", "--Telemetry:Enabled=true"]));
    }
}
