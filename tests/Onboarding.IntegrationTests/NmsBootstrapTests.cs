using System.Security.Cryptography.X509Certificates;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using Microsoft.Extensions.DependencyInjection;
using Onboarding.Accounts.Api;
using Onboarding.Inventory.Contracts;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.NmsBootstrap.Contracts;
using Onboarding.Sztp;

namespace Onboarding.IntegrationTests;

/// <summary>
/// The NMS's own RFC 8572 bootstrap server on its HTTPS port, with devices played by curl (their IDevID as client
/// certificate, the NMS trust anchor as --cacert) and openssl: onboarding-information in both call-home styles, TLS 1.2
/// with RSA PKCS#1 v1.5, and every refusal with the device's status and error and nothing changed.
/// </summary>
public class NmsBootstrapTests(OnboardingFactory factory) : NmsBootstrapRig(factory), IClassFixture<OnboardingFactory>
{
    private const string GetRpc = "get-bootstrapping-data";
    private const string JsonInput = """{"ietf-sztp-bootstrap-server:input":{"hw-model":"MX204","os-name":"Junos","os-version":"23.4R1"}}""";
    private const string XmlInput = """<input xmlns="urn:ietf:params:xml:ns:yang:ietf-sztp-bootstrap-server"><hw-model>MX204</hw-model></input>""";

    private INmsCallHomeIdentity CallHome => Factory.Services.GetRequiredService<INmsCallHomeIdentity>();

    [Fact]
    public async Task A_bookkept_device_gets_a_netconf_call_home_configuration_that_openssl_decodes_with_the_json_oid()
    {
        var setup = await ManufacturerAsync("Netconf Bootstrap Telecom");
        using var device = Device(setup.Ca.IssueDevice("NB-1"));
        var bookkept = await BookkeepAsync(setup, "NB-1", device.Certificate);

        var answer = await device.PostAsync(GetRpc, JsonInput);

        Assert.True(answer.Status == 200, answer.Body);
        Assert.Equal(BootstrapDevice.JsonType, answer.ContentType);
        var output = answer.Json.GetProperty("ietf-sztp-bootstrap-server:output");
        Assert.Equal(["conveyed-information"], output.EnumerateObject().Select(p => p.Name));
        var (contentType, content) = await device.DecodeWithOpenSslAsync(output.GetProperty("conveyed-information").GetBytesFromBase64());
        Assert.Equal(SztpOids.ConveyedInfoJson, contentType);

        // RFC 8572 JSON, module-prefixed, with only what call home needs.
        var information = JsonDocument.Parse(content).RootElement.GetProperty("ietf-sztp-conveyed-info:onboarding-information");
        Assert.Equal(["configuration-handling", "configuration"], information.EnumerateObject().Select(p => p.Name).Order().Reverse());
        Assert.Equal("merge", information.GetProperty("configuration-handling").GetString());
        Assert.IsType<OnboardingInformation>(ConveyedInformationCodec.Decode(content, SztpEncoding.Json));

        var configuration = XElement.Parse(Encoding.UTF8.GetString(information.GetProperty("configuration").GetBytesFromBase64()));
        XNamespace ns = "urn:ietf:params:xml:ns:yang:ietf-netconf-server";
        Assert.Equal(ns + "netconf-server", configuration.Name);
        var endpoint = configuration.Element(ns + "call-home")!.Element(ns + "netconf-client")!.Element(ns + "endpoints")!.Element(ns + "endpoint")!;
        var tcp = endpoint.Element(ns + "ssh")!.Element(ns + "tcp-client-parameters")!;
        Assert.Equal(PublicHost, tcp.Element(ns + "remote-address")!.Value);
        Assert.Equal("4334", tcp.Element(ns + "remote-port")!.Value);
        var user = endpoint.Descendants(ns + "user").Single();
        Assert.Equal(CallHome.UserName, user.Element(ns + "name")!.Value);
        var key = user.Descendants(ns + "public-key").Single(e => e.Element(ns + "public-key-format") is not null);
        Assert.Equal("ct:ssh-public-key-format", key.Element(ns + "public-key-format")!.Value);
        Assert.Equal(CallHome.PublicKeyLine.Split(' ')[1], key.Element(ns + "public-key")!.Value);
        Assert.StartsWith("ssh-ed25519 ", CallHome.PublicKeyLine, StringComparison.Ordinal);

        // Bookkept → Bootstrapping; asking again is on the timeline without changing the state.
        var again = await device.PostAsync(GetRpc, "");
        Assert.Equal(200, again.Status);
        var timeline = await TimelineAsync(setup, bookkept.Id);
        Assert.Equal(DeviceState.Bootstrapping, timeline.State);
        Assert.Equal([DeviceState.Bookkept, DeviceState.Bootstrapping, DeviceState.Bootstrapping], timeline.Steps.Select(s => s.State));
        Assert.StartsWith("bootstrap:127.0.0.1:", timeline.Steps[1].Source, StringComparison.Ordinal);
        Assert.Contains("get-bootstrapping-data (JSON, hw-model MX204, os Junos 23.4R1)", timeline.Steps[1].Detail, StringComparison.Ordinal);
        Assert.Contains("netconf call-home configuration", timeline.Steps[1].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_juniper_style_device_gets_an_outbound_ssh_stanza_with_its_own_secret_in_xml()
    {
        var setup = await ManufacturerAsync("Junos Bootstrap Telecom", callHomeStyle: "junos");
        using var device = Device(setup.Ca.IssueDevice("JN-1"));
        var bookkept = await BookkeepAsync(setup, "JN-1", device.Certificate);
        using var other = Device(setup.Ca.IssueDevice("JN-2"));
        var otherBookkept = await BookkeepAsync(setup, "JN-2", other.Certificate);

        var answer = await device.PostAsync(GetRpc, XmlInput, BootstrapDevice.XmlType);

        Assert.True(answer.Status == 200, answer.Body);
        Assert.Equal(BootstrapDevice.XmlType, answer.ContentType);
        XNamespace rpc = BootstrapServerRpc.Namespace;
        var output = XElement.Parse(answer.Body);
        Assert.Equal(rpc + "output", output.Name);
        var (contentType, content) = await device.DecodeWithOpenSslAsync(Convert.FromBase64String(output.Element(rpc + "conveyed-information")!.Value));
        Assert.Equal(SztpOids.ConveyedInfoXml, contentType);

        XNamespace ci = ConveyedInformationCodec.Namespace;
        var information = XElement.Parse(Encoding.UTF8.GetString(content));
        Assert.Equal(ci + "onboarding-information", information.Name);
        Assert.Equal("merge", information.Element(ci + "configuration-handling")!.Value);
        var stanza = Encoding.UTF8.GetString(Convert.FromBase64String(information.Element(ci + "configuration")!.Value));

        var secret = CallHome.DeviceSecret(bookkept.Id);
        Assert.Matches("^[0-9a-f]{64}$", secret);
        Assert.NotEqual(secret, CallHome.DeviceSecret(otherBookkept.Id));
        Assert.Contains("outbound-ssh {", stanza, StringComparison.Ordinal);
        Assert.Contains("device-id \"JN-1\";", stanza, StringComparison.Ordinal);
        Assert.Contains($"secret \"{secret}\";", stanza, StringComparison.Ordinal);
        Assert.Contains("services netconf;", stanza, StringComparison.Ordinal);
        Assert.Contains($"{PublicHost} port 4334;", stanza, StringComparison.Ordinal);
        Assert.Contains($"user {CallHome.UserName} {{", stanza, StringComparison.Ordinal);
        Assert.Contains($"ssh-ed25519 \"{CallHome.PublicKeyLine}\";", stanza, StringComparison.Ordinal);
        Assert.Equal(stanza.Count(c => c == '{'), stanza.Count(c => c == '}'));
        Assert.Equal(DeviceState.Bootstrapping, (await TimelineAsync(setup, bookkept.Id)).State);
    }

    [Fact]
    public async Task A_device_limited_to_tls_1_2_and_rsa_pkcs1_signatures_is_served()
    {
        var setup = await ManufacturerAsync("Strict Chip Telecom");
        using var device = Device(setup.Ca.IssueRsaDevice("RSA-1"));
        var bookkept = await BookkeepAsync(setup, "RSA-1", device.Certificate);
        var request = $"POST /restconf/operations/ietf-sztp-bootstrap-server:get-bootstrapping-data HTTP/1.1\r\nHost: {PublicHost}:{BootstrapPort}\r\n"
            + $"Content-Type: application/yang-data+xml\r\nAccept: application/yang-data+xml\r\nContent-Length: {Encoding.UTF8.GetByteCount(XmlInput)}\r\n"
            + $"Connection: close\r\n\r\n{XmlInput}";

        var session = await ExternalTool.RunAsync("/usr/bin/openssl",
        [
            "s_client", "-connect", $"127.0.0.1:{BootstrapPort}", "-servername", PublicHost, "-tls1_2", "-sigalgs", "RSA+SHA256",
            "-client_sigalgs", "RSA+SHA256", "-cert", device.CertificatePath, "-key", device.KeyPath, "-CAfile", device.TrustAnchorPath,
            "-verify_return_error", "-ign_eof",
        ], stdin: request);

        // Kestrel closes the connection after the answer without a close_notify, which s_client reports as an
        // "unexpected eof" exit code; what counts is the handshake and the answer it printed.
        Assert.True(session.Stdout.Contains("HTTP/1.1 200 OK", StringComparison.Ordinal), session.Stdout + session.Stderr);
        Assert.Contains("Protocol  : TLSv1.2", session.Stdout, StringComparison.Ordinal);
        Assert.Contains("Peer signature type: RSA\n", session.Stdout, StringComparison.Ordinal); // PKCS#1 v1.5, not RSA-PSS
        Assert.Contains("Verify return code: 0 (ok)", session.Stdout, StringComparison.Ordinal);
        Assert.Contains("HTTP/1.1 200 OK", session.Stdout, StringComparison.Ordinal);
        Assert.Contains("<conveyed-information>", session.Stdout, StringComparison.Ordinal);
        Assert.Equal(DeviceState.Bootstrapping, (await TimelineAsync(setup, bookkept.Id)).State);
    }

    [Fact]
    public async Task An_unknown_device_is_refused_401_and_nothing_is_recorded()
    {
        var setup = await ManufacturerAsync("Unknown Device Telecom");
        using var stranger = Device(setup.Ca.IssueDevice("NEVER-BOOKKEPT"));

        var answer = await stranger.PostAsync(GetRpc, JsonInput);

        Assert.Equal(401, answer.Status);
        Assert.Equal("access-denied", answer.Error.GetProperty("error-tag").GetString());
        Assert.Equal("unknown-device", answer.Error.GetProperty("error-app-tag").GetString());
        Assert.Equal(0, (await setup.Customer.GetFromJsonAsync<Onboarding.ServiceDefaults.Http.PagedList<Onboarding.Inventory.Api.DeviceSummary>>("/api/devices"))!.Total);
        Assert.Contains(Factory.Logs.RenderedMessages, m => m.Contains("no bookkept device has the key", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Another_certificate_for_the_bookkept_key_is_refused_401_certificate_mismatch_and_the_device_is_unchanged()
    {
        var setup = await ManufacturerAsync("Reissued Telecom");
        using var genuine = setup.Ca.IssueDevice("REISSUE-1");
        var bookkept = await BookkeepAsync(setup, "REISSUE-1", genuine);
        using var key = genuine.GetECDsaPrivateKey()!;
        using var reissued = Device(setup.Ca.IssueDevice("REISSUE-1", key: key)); // same key, same CA, another certificate

        var answer = await reissued.PostAsync(GetRpc, JsonInput);

        Assert.Equal(401, answer.Status);
        Assert.Equal("certificate-mismatch", answer.Error.GetProperty("error-app-tag").GetString());
        Assert.Contains(Factory.Logs.RenderedMessages, m => m.Contains("presented a certificate with its key that is not the bookkept one", StringComparison.Ordinal));
        await AssertUnchangedAsync(setup, bookkept.Id);
    }

    [Fact]
    public async Task A_certificate_other_than_the_bookkept_one_is_refused_401_and_the_device_is_unchanged()
    {
        var setup = await ManufacturerAsync("Impostor Telecom");
        using var genuine = setup.Ca.IssueDevice("IMP-1");
        var bookkept = await BookkeepAsync(setup, "IMP-1", genuine);
        using var impostor = Device(setup.Ca.IssueDevice("IMP-1")); // same serial, same CA, another key

        var answer = await impostor.PostAsync(GetRpc, JsonInput);

        Assert.Equal(401, answer.Status);
        Assert.Equal("unknown-device", answer.Error.GetProperty("error-app-tag").GetString());
        Assert.Contains(Factory.Logs.RenderedMessages, m => m.Contains("serial IMP-1 is bookkept with a different certificate", StringComparison.Ordinal));
        await AssertUnchangedAsync(setup, bookkept.Id);
    }

    [Fact]
    public async Task A_device_of_a_disabled_manufacturer_is_refused_403_until_it_is_enabled_again()
    {
        var setup = await ManufacturerAsync("Disabling Telecom");
        using var device = Device(setup.Ca.IssueDevice("DIS-1"));
        var bookkept = await BookkeepAsync(setup, "DIS-1", device.Certificate);
        (await setup.Customer.PostAsync($"/api/manufacturers/{setup.Credentials.ManufacturerId}/disable", null)).EnsureSuccessStatusCode();

        var refused = await device.PostAsync(GetRpc, JsonInput);

        Assert.Equal(403, refused.Status);
        Assert.Equal("manufacturer-disabled", refused.Error.GetProperty("error-app-tag").GetString());
        Assert.Equal("application", refused.Error.GetProperty("error-type").GetString());
        await AssertUnchangedAsync(setup, bookkept.Id);

        (await setup.Customer.PostAsync($"/api/manufacturers/{setup.Credentials.ManufacturerId}/enable", null)).EnsureSuccessStatusCode();
        Assert.Equal(200, (await device.PostAsync(GetRpc, JsonInput)).Status);
    }

    [Fact]
    public async Task A_device_whose_manufacturer_has_no_ca_is_refused_403()
    {
        var setup = await ManufacturerAsync("No CA Telecom", registerCa: false);
        using var device = Device(setup.Ca.IssueDevice("NOCA-1"));
        var bookkept = await BookkeepAsync(setup, "NOCA-1", device.Certificate);

        var answer = await device.PostAsync(GetRpc, XmlInput, BootstrapDevice.XmlType);

        Assert.Equal(403, answer.Status);
        XNamespace rc = "urn:ietf:params:xml:ns:yang:ietf-restconf";
        var error = XElement.Parse(answer.Body).Element(rc + "error")!;
        Assert.Equal("manufacturer-without-ca", error.Element(rc + "error-app-tag")!.Value);
        Assert.Contains("no factory CA", error.Element(rc + "error-message")!.Value, StringComparison.Ordinal);
        await AssertUnchangedAsync(setup, bookkept.Id);
    }

    [Fact]
    public async Task A_device_that_no_longer_chains_to_the_registered_ca_is_refused_401()
    {
        var setup = await ManufacturerAsync("Wrong CA Telecom");
        using var device = Device(setup.Ca.IssueDevice("WCA-1"));
        var bookkept = await BookkeepAsync(setup, "WCA-1", device.Certificate);
        using var otherCa = new FactoryCa("Another Factory CA");
        (await setup.Customer.PutAsJsonAsync($"/api/manufacturers/{setup.Credentials.ManufacturerId}/ca", new { certificatesPem = otherCa.Pem }))
            .EnsureSuccessStatusCode();

        var answer = await device.PostAsync(GetRpc, JsonInput);

        Assert.Equal(401, answer.Status);
        Assert.Equal("untrusted-chain", answer.Error.GetProperty("error-app-tag").GetString());
        await AssertUnchangedAsync(setup, bookkept.Id);
    }

    [Fact]
    public async Task Rejected_and_onboarded_devices_are_refused_403_and_a_reprovisioned_one_bootstraps_again()
    {
        var setup = await ManufacturerAsync("Lifecycle Bootstrap Telecom");
        using var rejected = Device(setup.Ca.IssueDevice("LB-REJ"));
        using var onboarded = Device(setup.Ca.IssueDevice("LB-ONB"));
        var rejectedId = (await BookkeepAsync(setup, "LB-REJ", rejected.Certificate)).Id;
        var onboardedId = (await BookkeepAsync(setup, "LB-ONB", onboarded.Certificate)).Id;
        await RecordAsync(rejectedId, DeviceState.Rejected, "the owner returned it");
        Assert.Equal(200, (await onboarded.PostAsync(GetRpc, JsonInput)).Status);
        foreach (var state in new[] { DeviceState.CalledHome, DeviceState.Configured, DeviceState.Onboarded })
            await RecordAsync(onboardedId, state, $"test: {state}");

        var refusedRejected = await rejected.PostAsync(GetRpc, JsonInput);
        var refusedOnboarded = await onboarded.PostAsync(GetRpc, JsonInput);

        Assert.Equal((403, "device-rejected"), (refusedRejected.Status, refusedRejected.Error.GetProperty("error-app-tag").GetString()));
        Assert.Equal((403, "device-onboarded"), (refusedOnboarded.Status, refusedOnboarded.Error.GetProperty("error-app-tag").GetString()));
        Assert.Equal(2, (await TimelineAsync(setup, rejectedId)).Steps.Count);
        Assert.Equal(DeviceState.Onboarded, (await TimelineAsync(setup, onboardedId)).State);

        // A factory reset: the owner's NMS marks it Reprovisioning, and the device bootstraps like a new one.
        await RecordAsync(onboardedId, DeviceState.Reprovisioning, "factory reset");
        Assert.Equal(200, (await onboarded.PostAsync(GetRpc, JsonInput)).Status);
        Assert.Equal(DeviceState.Bootstrapping, (await TimelineAsync(setup, onboardedId)).State);
    }

    [Fact]
    public async Task A_certificate_bookkept_by_two_owners_is_refused_403_for_both()
    {
        var first = await ManufacturerAsync("First Owner Telecom");
        var second = await ManufacturerAsync("Second Owner Telecom");
        (await second.Customer.PutAsJsonAsync($"/api/manufacturers/{second.Credentials.ManufacturerId}/ca", new { certificatesPem = first.Ca.Pem }))
            .EnsureSuccessStatusCode();
        using var device = Device(first.Ca.IssueDevice("TWICE-1"));
        var firstId = (await BookkeepAsync(first, "TWICE-1", device.Certificate)).Id;
        var secondId = (await BookkeepAsync(second, "TWICE-1", device.Certificate)).Id;

        var answer = await device.PostAsync(GetRpc, JsonInput);

        Assert.Equal((403, "ambiguous-device"), (answer.Status, answer.Error.GetProperty("error-app-tag").GetString()));
        await AssertUnchangedAsync(first, firstId);
        await AssertUnchangedAsync(second, secondId);
    }

    private async Task RecordAsync(DeviceId id, DeviceState state, string detail)
    {
        using var scope = Factory.Services.CreateScope();
        await scope.ServiceProvider.GetRequiredService<IDeviceLifecycle>().RecordStepAsync(id, new DeviceStep(state, "test:lifecycle", detail), CancellationToken.None);
    }

    [Fact]
    public async Task The_call_home_style_is_shown_and_validated_in_the_manufacturer_api()
    {
        var setup = await ManufacturerAsync("Style Telecom");
        var url = $"/api/manufacturers/{setup.Credentials.ManufacturerId}";
        Assert.Equal(Onboarding.Accounts.Contracts.CallHomeStyle.Netconf, (await setup.Customer.GetFromJsonAsync<ManufacturerView>(url))!.CallHomeStyle);
        Assert.Contains("\"callHomeStyle\":\"netconf\"", await setup.Customer.GetStringAsync(url), StringComparison.Ordinal);

        await Problem.AssertValidationAsync(await setup.Customer.PutAsJsonAsync($"{url}/call-home-style", new { callHomeStyle = "telnet" }), "callHomeStyle");
        await Problem.AssertValidationAsync(await setup.Customer.PutAsJsonAsync($"{url}/call-home-style", new { }), "callHomeStyle");
        Assert.Contains("\"callHomeStyle\":\"netconf\"", await setup.Customer.GetStringAsync(url), StringComparison.Ordinal);

        var set = await setup.Customer.PutAsJsonAsync($"{url}/call-home-style", new { callHomeStyle = "junos" });
        Assert.Equal(Onboarding.Accounts.Contracts.CallHomeStyle.Junos, (await set.Content.ReadFromJsonAsync<ManufacturerView>())!.CallHomeStyle);
        Assert.Contains("\"callHomeStyle\":\"junos\"", await setup.Customer.GetStringAsync(url), StringComparison.Ordinal);

        var (stranger, _) = await Factory.SignUpAsync("Style Stranger Telecom");
        await Problem.AssertAsync(await stranger.PutAsJsonAsync($"{url}/call-home-style", new { callHomeStyle = "netconf" }), System.Net.HttpStatusCode.NotFound);
        Assert.Contains("\"callHomeStyle\":\"junos\"", await setup.Customer.GetStringAsync(url), StringComparison.Ordinal);
    }

    private static async Task AssertUnchangedAsync(ManufacturerSetup setup, DeviceId id)
    {
        var timeline = await TimelineAsync(setup, id);
        Assert.Equal(DeviceState.Bookkept, timeline.State);
        Assert.Single(timeline.Steps);
    }
}
