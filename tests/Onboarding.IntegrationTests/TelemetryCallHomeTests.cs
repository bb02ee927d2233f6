using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Xml.Linq;
using Microsoft.Extensions.DependencyInjection;
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
        Assert.Equal("AUTO-1", written.GetNameInfo(X509NameType.SimpleName, forIssuer: false));
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
    public async Task A_device_without_the_telemetry_capability_gets_the_failure_on_its_timeline_once_and_stays_Onboarded()
    {
        var (setup, certificate) = await CustomerWithDeviceAsync("Legacy Telecom", "LEGACY-1", autoCredential: true);
        var id = (await BookkeepAsync(setup, "LEGACY-1", certificate)).Id;
        await using var device = new CallingDevice(Factory, certificate, "LEGACY-1", telemetry: false);

        await WaitForStepAsync(setup, id, s => s.Detail.StartsWith("telemetry-credential", StringComparison.Ordinal));
        // The session outlived the failed delivery (the device's exit-status after the NMS closed the channel once ended
        // it with a protocol error). Now it drops and the device calls again: it still lacks the capability, and the NMS
        // tries again.
        using (var drop = await setup.Customer.DeleteAsync($"/api/callhome/sessions/{id}"))
        {
            Assert.True(drop.StatusCode == HttpStatusCode.NoContent, await drop.Content.ReadAsStringAsync() + "\nerrors logged: "
                + string.Join("\n", Factory.Logs.Events.Where(e => e.Exception is not null).Select(e => e.RenderMessage() + ": " + e.Exception!.Message)));
        }

        await TelemetryFactory.EventuallyAsync(() => Task.FromResult(Factory.Logs.RenderedMessages.Count(m =>
            m.Replace("\"", "", StringComparison.Ordinal).Contains("Telemetry credential of LEGACY-1 (" + id + ") not delivered", StringComparison.Ordinal)) >= 2),
            "a second delivery attempt on the second call home", TimeSpan.FromSeconds(60));

        // One entry stands for both attempts: a lasting cause is not repeated on every call home.
        var timeline = await TimelineAsync(setup, id);
        var failed = Assert.Single(timeline.Steps, s => s.Detail.StartsWith("telemetry-credential", StringComparison.Ordinal));
        Assert.StartsWith("telemetry-credential-failed: the device does not announce the capability urn:onboarding:telemetry:1.0", failed.Detail, StringComparison.Ordinal);
        Assert.Equal(DeviceState.Onboarded, failed.State);
        Assert.Equal(DeviceState.Onboarded, timeline.State);
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

    /// <summary>What a device may answer to generate-csr that the NMS must refuse, and how the timeline says it.</summary>
    public static TheoryData<string, string> BadCsrAnswers => new()
    {
        { "not-base64", "generate-csr: the csr is not base64" },
        { "not-a-request", "generate-csr: the csr is not a valid PKCS#10 request" },
        { "forged-signature", "generate-csr: the csr is not a valid PKCS#10 request" },
        { "rsa-1024", "generate-csr: an RSA key of 1024 bits is too weak" },
        { "no-csr", "generate-csr: the reply to generate-csr holds no <csr" },
        { "rpc-error", "generate-csr refused by the device: application/operation-failed" },
    };

    [Theory]
    [MemberData(nameof(BadCsrAnswers))]
    public async Task A_bad_answer_to_generate_csr_is_refused_on_the_timeline_stores_nothing_and_the_next_device_is_served(string answer, string expected)
    {
        var serial = "BAD-" + answer.ToUpperInvariant();
        var (setup, certificate) = await CustomerWithDeviceAsync("Sloppy Telecom " + answer, serial, autoCredential: true);
        using (certificate)
        {
            var device = await OnboardedAsync(setup, serial, certificate);
            await using var sloppy = new SimulatedNetconfDevice(TelemetryCapabilities, intercept: op => op.Name == Telemetry + "generate-csr" ? BadCsr(answer) : null);
            await using (var session = await sloppy.ConnectAsync())
            {
                var outcome = await DeliverAsync(device, session);
                Assert.Equal(Onboarding.Telemetry.Contracts.TelemetryCredentialResult.Failed, outcome.Result);
            }

            var timeline = await TimelineAsync(setup, device.Id);
            Assert.Equal(DeviceState.Onboarded, timeline.State);
            Assert.StartsWith("telemetry-credential-failed: " + expected, timeline.Steps[^1].Detail, StringComparison.Ordinal);
            Assert.Equal(0, await Factory.CountAsync("SELECT count(*) FROM telemetry.credential_issuances WHERE serial_number = $1", serial));
            Assert.DoesNotContain(sloppy.Operations, op => op is "edit-config" or "commit");
        }

        // The host goes on serving: a well-behaved device of the same customer gets its credential.
        var goodSerial = "GOOD-" + answer.ToUpperInvariant();
        using var goodCertificate = setup.Ca.IssueDevice(goodSerial);
        var good = await OnboardedAsync(setup, goodSerial, goodCertificate);
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        await using var wellBehaved = new SimulatedNetconfDevice(TelemetryCapabilities,
            intercept: op => op.Name == Telemetry + "generate-csr" ? new XElement(Telemetry + "csr", Convert.ToBase64String(Csr(key, goodSerial))) : null);
        await using (var session = await wellBehaved.ConnectAsync())
            Assert.Equal(Onboarding.Telemetry.Contracts.TelemetryCredentialResult.Issued, (await DeliverAsync(good, session)).Result);
        var running = wellBehaved.Store.Snapshot(Onboarding.Netconf.Datastore.DatastoreName.Running);
        using var issued = X509CertificateLoader.LoadCertificate(Convert.FromBase64String(running.Element(Telemetry + "telemetry")!.Element(Telemetry + "certificate")!.Value));
        Assert.Equal(key.ExportSubjectPublicKeyInfo(), issued.PublicKey.ExportSubjectPublicKeyInfo());
        Assert.Equal(["get-config", "generate-csr", "edit-config", "commit", "get-config"], wellBehaved.Operations);
    }

    private static readonly string[] TelemetryCapabilities =
        [Onboarding.Netconf.Messages.NetconfCapabilities.Base10, Onboarding.Netconf.Messages.NetconfCapabilities.Base11,
         Onboarding.Netconf.Messages.NetconfCapabilities.Candidate, "urn:onboarding:telemetry:1.0"];

    private static byte[] Csr(System.Security.Cryptography.AsymmetricAlgorithm key, string serial) => key switch
    {
        System.Security.Cryptography.ECDsa ecdsa => new CertificateRequest("CN=" + serial, ecdsa, System.Security.Cryptography.HashAlgorithmName.SHA256).CreateSigningRequest(),
        System.Security.Cryptography.RSA rsa => new CertificateRequest("CN=" + serial, rsa, System.Security.Cryptography.HashAlgorithmName.SHA256,
            System.Security.Cryptography.RSASignaturePadding.Pkcs1).CreateSigningRequest(),
        _ => throw new ArgumentException("ECDSA or RSA", nameof(key)),
    };

    private static XElement BadCsr(string answer)
    {
        switch (answer)
        {
            case "not-base64":
                return new XElement(Telemetry + "csr", "this is not base64!");
            case "not-a-request":
                return new XElement(Telemetry + "csr", Convert.ToBase64String("not a PKCS#10 request"u8.ToArray()));
            case "forged-signature":
            {
                using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
                var der = Csr(key, "X");
                der[^1] ^= 0x01; // the last byte is in the signature
                return new XElement(Telemetry + "csr", Convert.ToBase64String(der));
            }
            case "rsa-1024":
            {
                using var key = System.Security.Cryptography.RSA.Create(1024);
                return new XElement(Telemetry + "csr", Convert.ToBase64String(Csr(key, "X")));
            }
            case "no-csr":
                return new XElement(Telemetry + "something-else");
            default:
                throw new Onboarding.Netconf.Messages.NetconfRpcException(new Onboarding.Netconf.Messages.RpcError(
                    Onboarding.Netconf.Messages.RpcErrorType.Application, "operation-failed", Onboarding.Netconf.Messages.RpcErrorSeverity.Error, Message: "no entropy today"));
        }
    }

    /// <summary>Bookkept and moved to Onboarded through the device lifecycle, as call home and pre-configuration would.</summary>
    private async Task<Onboarding.Inventory.Contracts.DeviceIdentity> OnboardedAsync(ManufacturerSetup setup, string serial, X509Certificate2 certificate)
    {
        var id = (await BookkeepAsync(setup, serial, certificate)).Id;
        using var scope = Factory.Services.CreateScope();
        var lifecycle = scope.ServiceProvider.GetRequiredService<IDeviceLifecycle>();
        foreach (var state in new[] { DeviceState.Bootstrapping, DeviceState.CalledHome, DeviceState.Configured, DeviceState.Onboarded })
            await lifecycle.RecordStepAsync(id, new DeviceStep(state, "test:lifecycle", "moved by the test"), CancellationToken.None);
        return (await scope.ServiceProvider.GetRequiredService<IDeviceDirectory>().GetAsync(id, CancellationToken.None))!;
    }

    private async Task<Onboarding.Telemetry.Contracts.TelemetryCredentialOutcome> DeliverAsync(Onboarding.Inventory.Contracts.DeviceIdentity device, Onboarding.Ssh.SshClientSession session)
    {
        using var scope = Factory.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<Onboarding.Telemetry.Contracts.ITelemetryCredentialDelivery>()
            .DeliverAsync(device, session, "call-home:test", CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(2));
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
