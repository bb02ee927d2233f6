using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Xml.Linq;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.Inventory.Api;
using Onboarding.Inventory.Contracts;
using Onboarding.Telemetry.Api;

namespace Onboarding.IntegrationTests;

/// <summary>
/// Issue 14, item 3: a customer's autoCredential setting, and the telemetry credential delivered over the call-home
/// session once the device is Onboarded. Real PostgreSQL, the real call-home listener and pre-configuration, a real
/// mosquitto, and the device simulator (our SSH server and NETCONF datastore; MQTTnet for its telemetry).
/// </summary>
public sealed class TelemetryCallHomeTests(TelemetryCallHomeFactory factory) : NmsBootstrapRig(factory), IClassFixture<TelemetryCallHomeFactory>
{
    private static readonly XNamespace Telemetry = "urn:onboarding:telemetry:1.0";

    private const string Template = "<config><system xmlns=\"urn:example:sim\"><hostname>{{serial}}</hostname></system></config>";

    private new TelemetryCallHomeFactory Factory => (TelemetryCallHomeFactory)base.Factory;

    [Fact]
    public async Task With_autoCredential_on_an_onboarded_device_gets_its_credential_over_call_home_publishes_with_MQTTnet_and_follows_its_twin()
    {
        var (setup, certificate) = await CustomerWithDeviceAsync("Auto Telecom", "AUTO-1", autoCredential: true);
        var id = (await BookkeepAsync(setup, "AUTO-1", certificate)).Id;
        await using var device = new CallingDevice(Factory, certificate, "AUTO-1", telemetry: true);

        var timeline = await WaitForStepAsync(setup, id, s => s.Detail.StartsWith("telemetry-credential", StringComparison.Ordinal));
        var issued = timeline.Steps.Single(s => s.Detail.StartsWith("telemetry-credential", StringComparison.Ordinal));
        Assert.StartsWith("telemetry-credential-issued: certificate ", issued.Detail, StringComparison.Ordinal);
        Assert.Equal(DeviceState.Onboarded, issued.State);
        Assert.StartsWith("call-home:127.0.0.1:", issued.Source, StringComparison.Ordinal);
        Assert.Equal(1, await Factory.CountAsync("SELECT count(*) FROM telemetry.credential_issuances WHERE serial_number = $1 AND revoked_at IS NULL", "AUTO-1"));

        // The device publishes with MQTTnet and its readings land in PostgreSQL under its device name.
        await TelemetryFactory.EventuallyAsync(() => Task.FromResult(device.Telemetry!.Client is { Published: >= 3 }), "three readings acknowledged by the broker",
            TimeSpan.FromSeconds(90));
        await TelemetryFactory.EventuallyAsync(async () => await ReadingsAsync("AUTO-1") >= 3, "three readings in telemetry.readings", TimeSpan.FromSeconds(60));
        var latest = await setup.Customer.GetFromJsonAsync<TelemetryReading>("/api/devices/AUTO-1/telemetry/latest");
        Assert.Equal("AUTO-1", latest!.DeviceId);
        Assert.InRange(latest.BatteryLevel, 0, 100);
        Assert.InRange(latest.Latitude, 48, 49.1);

        // The central device_function change (the twin) reaches the device, which reports the version it applied.
        using (var admin = Factory.CreateAdminClient())
        {
            using var change = await admin.PutAsJsonAsync("/api/devices/AUTO-1/telemetry-function", new DeviceFunctionChange("surveillance"));
            Assert.True(change.IsSuccessStatusCode, await change.Content.ReadAsStringAsync());
        }

        await TelemetryFactory.EventuallyAsync(() => Task.FromResult(device.Telemetry!.Client?.DeviceFunction == "surveillance"), "the device applying surveillance",
            TimeSpan.FromSeconds(60));
        await TelemetryFactory.EventuallyAsync(async () => (await setup.Customer.GetFromJsonAsync<DeviceTwin>("/api/devices/AUTO-1/twin"))!.InSync,
            "the twin in sync", TimeSpan.FromSeconds(60));

        // Calling home again (the session dropped): the device holds a valid certificate of ours, so nothing new is issued.
        using (var drop = await setup.Customer.DeleteAsync($"/api/callhome/sessions/{id}"))
            Assert.Equal(HttpStatusCode.NoContent, drop.StatusCode);
        await WaitForLogAsync("Telemetry credential of AUTO-1 (" + id + "): the device already holds certificate");
        Assert.Equal(1, await Factory.CountAsync("SELECT count(*) FROM telemetry.credential_issuances WHERE serial_number = $1", "AUTO-1"));

        // The device kept its private key: the certificate in its running configuration certifies the key it generated,
        // and nothing but public material was written to it.
        var outcome = await device.StopAsync();
        var running = XElement.Parse(outcome.RunningConfiguration!);
        var container = running.Element(Telemetry + "telemetry")!;
        using var written = X509CertificateLoader.LoadCertificate(Convert.FromBase64String(container.Element(Telemetry + "certificate")!.Value));
        Assert.Equal(device.Telemetry!.PublicKey, written.PublicKey.ExportSubjectPublicKeyInfo());
        Assert.Equal("CN=AUTO-1, O=Onboarding devices", written.Subject);
        Assert.DoesNotContain("PRIVATE", outcome.RunningConfiguration!, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(["device-id", "device-name", "device-function", "broker", "telemetry-topic", "certificate", "ca-certificate"],
            container.Elements().Select(e => e.Name.LocalName));

        // Neither the certificate nor any key material reaches the host's log or the timeline.
        var certificateText = container.Element(Telemetry + "certificate")!.Value;
        var logs = Factory.Logs.RenderedMessages.ToList();
        Assert.DoesNotContain(logs, m => m.Contains(certificateText[..64], StringComparison.Ordinal) || m.Contains("PRIVATE KEY", StringComparison.Ordinal));
        Assert.DoesNotContain((await TimelineAsync(setup, id)).Steps, s => s.Detail.Contains(certificateText[..64], StringComparison.Ordinal));
    }

    [Fact]
    public async Task With_autoCredential_off_no_credential_is_delivered_even_when_another_customer_turned_it_on()
    {
        var (other, _) = await CustomerWithDeviceAsync("Eager Telecom", "EAGER-1", autoCredential: true);
        Assert.True((await other.Customer.GetFromJsonAsync<TelemetrySettings>("/api/telemetry/settings"))!.AutoCredential);
        var (setup, certificate) = await CustomerWithDeviceAsync("Careful Telecom", "CAREFUL-1", autoCredential: null);
        var id = (await BookkeepAsync(setup, "CAREFUL-1", certificate)).Id;
        await using var device = new CallingDevice(Factory, certificate, "CAREFUL-1", telemetry: true);

        await WaitForStepAsync(setup, id, s => s.State == DeviceState.Onboarded);
        await WaitForLogAsync("Telemetry credential of CAREFUL-1 (" + id + "): not delivered, the customer's autoCredential is off");

        Assert.Equal(0, await Factory.CountAsync("SELECT count(*) FROM telemetry.credential_issuances WHERE serial_number = $1", "CAREFUL-1"));
        Assert.DoesNotContain((await TimelineAsync(setup, id)).Steps, s => s.Detail.Contains("telemetry-credential", StringComparison.Ordinal));
        Assert.Null(device.Telemetry!.Client);
        Assert.DoesNotContain(device.Telemetry.Events, e => e.StartsWith("generate-csr", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_device_without_the_telemetry_capability_gets_the_failure_on_its_timeline_and_stays_Onboarded()
    {
        var (setup, certificate) = await CustomerWithDeviceAsync("Legacy Telecom", "LEGACY-1", autoCredential: true);
        var id = (await BookkeepAsync(setup, "LEGACY-1", certificate)).Id;
        await using var device = new CallingDevice(Factory, certificate, "LEGACY-1", telemetry: false);

        var timeline = await WaitForStepAsync(setup, id, s => s.Detail.StartsWith("telemetry-credential", StringComparison.Ordinal));

        var failed = timeline.Steps.Single(s => s.Detail.StartsWith("telemetry-credential", StringComparison.Ordinal));
        Assert.StartsWith("telemetry-credential-failed: the device does not announce the capability urn:onboarding:telemetry:1.0", failed.Detail, StringComparison.Ordinal);
        Assert.Equal(DeviceState.Onboarded, failed.State);
        Assert.Equal(DeviceState.Onboarded, (await TimelineAsync(setup, id)).State);
        Assert.Equal(0, await Factory.CountAsync("SELECT count(*) FROM telemetry.credential_issuances WHERE serial_number = $1", "LEGACY-1"));
    }

    [Fact]
    public async Task The_setting_is_off_by_default_per_customer_and_a_bad_body_is_refused()
    {
        var (first, _) = await Factory.SignUpAsync("Settings One");
        var (second, _) = await Factory.SignUpAsync("Settings Two");
        Assert.False((await first.GetFromJsonAsync<TelemetrySettings>("/api/telemetry/settings"))!.AutoCredential);

        await TelemetrySettingsClient.SetAutoCredentialAsync(first, true);
        Assert.True((await first.GetFromJsonAsync<TelemetrySettings>("/api/telemetry/settings"))!.AutoCredential);
        Assert.False((await second.GetFromJsonAsync<TelemetrySettings>("/api/telemetry/settings"))!.AutoCredential);
        await TelemetrySettingsClient.SetAutoCredentialAsync(first, false);
        Assert.False((await first.GetFromJsonAsync<TelemetrySettings>("/api/telemetry/settings"))!.AutoCredential);

        using var missing = await first.PutAsJsonAsync("/api/telemetry/settings", new { });
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        var problem = await missing.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty("autoCredential", out _), problem.ToString());

        using var anonymous = Factory.CreateClient();
        using var refused = await anonymous.PutAsJsonAsync("/api/telemetry/settings", new { autoCredential = true });
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.False((await first.GetFromJsonAsync<TelemetrySettings>("/api/telemetry/settings"))!.AutoCredential);
    }

    /// <summary>A customer (autoCredential as given; null: never set) with a manufacturer, a "*" template and an IDevID for the serial.</summary>
    private async Task<(ManufacturerSetup Setup, X509Certificate2 Certificate)> CustomerWithDeviceAsync(string customer, string serial, bool? autoCredential)
    {
        var setup = await ManufacturerAsync(customer);
        if (autoCredential is { } on)
            await TelemetrySettingsClient.SetAutoCredentialAsync(setup.Customer, on);
        using var put = await setup.Customer.PutAsJsonAsync("/api/preconfiguration/templates/*", new { kind = "netconf", body = Template });
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        return (setup, setup.Ca.IssueDevice(serial));
    }

    private Task<long> ReadingsAsync(string serial) => Factory.CountAsync(
        "SELECT count(*) FROM telemetry.readings r JOIN telemetry.devices d ON d.device_name = r.device_name WHERE d.serial_number = $1", serial);

    private static async Task<DeviceTimeline> WaitForStepAsync(ManufacturerSetup setup, DeviceId id, Func<TimelineEntry, bool> match)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            var timeline = await TimelineAsync(setup, id);
            if (timeline.Steps.Any(match))
                return timeline;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("no such step; timeline: " + string.Join(" | ", timeline.Steps.Select(s => $"{s.State} {s.Detail}")));
            await Task.Delay(200);
        }
    }

    private async Task WaitForLogAsync(string text)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        // Serilog renders string values in quotes; look for the text without them.
        while (!Factory.Logs.RenderedMessages.Any(m => m.Replace("\"", "", StringComparison.Ordinal).Contains(text, StringComparison.Ordinal)))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"no log line with '{text}'");
            await Task.Delay(200);
        }
    }
}
