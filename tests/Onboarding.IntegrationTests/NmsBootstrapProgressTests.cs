using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Onboarding.Inventory.Contracts;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.NmsBootstrap.Api;
using Onboarding.NmsBootstrap.Contracts;
using Onboarding.Ssh.Keys;

namespace Onboarding.IntegrationTests;

/// <summary>
/// report-progress at the NMS bootstrap server (every RFC 8572 progress type onto the device's timeline,
/// bootstrap-complete pinning the SSH host keys for call home, malformed reports refused), and the owner's
/// "what will this device get?" preview, tenant-isolated and without side effects.
/// </summary>
public class NmsBootstrapProgressTests(OnboardingFactory factory) : NmsBootstrapRig(factory), IClassFixture<OnboardingFactory>
{
    private const string ReportRpc = "report-progress";

    private static string Report(string type, string? message = null, string? hostKeys = null) =>
        "{\"ietf-sztp-bootstrap-server:input\":{\"progress-type\":\"" + type + "\""
        + (message is null ? "" : ",\"message\":\"" + message + "\"")
        + (hostKeys is null ? "" : ",\"ssh-host-keys\":{\"ssh-host-key\":[" + hostKeys + "]}") + "}}";

    private static string HostKey(SshPublicKey key, string? algorithm = null) =>
        $"{{\"algorithm\":\"{algorithm ?? key.KeyType}\",\"key-data\":\"{Convert.ToBase64String(key.Blob)}\"}}";

    [Fact]
    public async Task Progress_reports_of_every_kind_go_on_the_device_timeline()
    {
        var setup = await ManufacturerAsync("Progress Telecom");
        using var device = Device(setup.Ca.IssueDevice("PR-1"));
        var bookkept = await BookkeepAsync(setup, "PR-1", device.Certificate);
        Assert.Equal(200, (await device.PostAsync("get-bootstrapping-data", "")).Status);

        Assert.Equal(204, (await device.PostAsync(ReportRpc, Report("bootstrap-initiated"))).Status);
        Assert.Equal(204, (await device.PostAsync(ReportRpc, Report("parsing-complete", "conveyed information parsed"))).Status);
        Assert.Equal(204, (await device.PostAsync(ReportRpc, Report("config-warning", "interface ge-0/0/9 absent"))).Status);
        var xml = """
            <input xmlns="urn:ietf:params:xml:ns:yang:ietf-sztp-bootstrap-server">
              <progress-type>informational</progress-type><message>rebooting into the new image</message>
            </input>
            """;
        Assert.Equal(204, (await device.PostAsync(ReportRpc, xml, BootstrapDevice.XmlType)).Status);

        var timeline = await TimelineAsync(setup, bookkept.Id);
        Assert.Equal(
            [
                "report-progress bootstrap-initiated",
                "report-progress parsing-complete: conveyed information parsed",
                "report-progress config-warning: interface ge-0/0/9 absent",
                "report-progress informational: rebooting into the new image",
            ],
            timeline.Steps.Skip(2).Select(s => s.Detail));
        Assert.All(timeline.Steps.Skip(1), s => Assert.Equal(DeviceState.Bootstrapping, s.State));
        Assert.All(timeline.Steps.Skip(1), s => Assert.StartsWith("bootstrap:127.0.0.1:", s.Source, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Bootstrap_complete_pins_the_reported_host_keys_and_a_new_complete_replaces_them()
    {
        var setup = await ManufacturerAsync("Pinning Telecom");
        using var device = Device(setup.Ca.IssueDevice("PIN-1"));
        var bookkept = await BookkeepAsync(setup, "PIN-1", device.Certificate);
        using var ed25519 = SshHostKey.GenerateEd25519();
        using var ecdsa = SshHostKey.GenerateEcdsa(256);
        Assert.Equal(200, (await device.PostAsync("get-bootstrapping-data", "")).Status);

        var complete = await device.PostAsync(ReportRpc, Report("bootstrap-complete", "done", $"{HostKey(ed25519.PublicKey)},{HostKey(ecdsa.PublicKey)}"));

        Assert.True(complete.Status == 204, complete.Body);
        var pinned = (await setup.Customer.GetFromJsonAsync<DeviceHostKeys>($"/api/devices/{bookkept.Id}/ssh-host-keys"))!;
        Assert.Equal((bookkept.Id, "PIN-1"), (pinned.DeviceId, pinned.SerialNumber));
        Assert.Equal(
            new[] { ecdsa.PublicKey, ed25519.PublicKey }.Select(k => (k.KeyType, k.Fingerprint, k.ToAuthorizedKeysLine())).OrderBy(k => k.KeyType),
            pinned.Keys.Select(k => (k.Algorithm, k.Fingerprint, k.PublicKey)));
        var timeline = await TimelineAsync(setup, bookkept.Id);
        Assert.Equal(DeviceState.Bootstrapping, timeline.State);
        Assert.Contains(ed25519.PublicKey.Fingerprint, timeline.Steps[^1].Detail, StringComparison.Ordinal);
        Assert.StartsWith("report-progress bootstrap-complete: done (SSH host keys pinned:", timeline.Steps[^1].Detail, StringComparison.Ordinal);

        // Call home finds the device by a pinned key through the contract.
        using (var scope = Factory.Services.CreateScope())
        {
            var pins = scope.ServiceProvider.GetRequiredService<IPinnedHostKeys>();
            Assert.Equal([bookkept.Id], await pins.FindDevicesAsync(ed25519.PublicKey.Fingerprint, CancellationToken.None));
        }

        using var rebuilt = SshHostKey.GenerateEd25519();
        Assert.Equal(204, (await device.PostAsync(ReportRpc, Report("bootstrap-complete", hostKeys: HostKey(rebuilt.PublicKey)))).Status);
        pinned = (await setup.Customer.GetFromJsonAsync<DeviceHostKeys>($"/api/devices/{bookkept.Id}/ssh-host-keys"))!;
        Assert.Equal([rebuilt.PublicKey.Fingerprint], pinned.Keys.Select(k => k.Fingerprint));
    }

    [Fact]
    public async Task Malformed_reports_are_refused_400_and_nothing_is_recorded_or_pinned()
    {
        var setup = await ManufacturerAsync("Malformed Report Telecom");
        using var device = Device(setup.Ca.IssueDevice("MAL-1"));
        var bookkept = await BookkeepAsync(setup, "MAL-1", device.Certificate);
        using var ed25519 = SshHostKey.GenerateEd25519();
        Assert.Equal(200, (await device.PostAsync("get-bootstrapping-data", "")).Status);
        var before = (await TimelineAsync(setup, bookkept.Id)).Steps.Count;

        var notJson = await device.PostAsync(ReportRpc, "{\"ietf-sztp-bootstrap-server:input\": {");
        var unknownType = await device.PostAsync(ReportRpc, Report("bootstrap-finished"));
        var noType = await device.PostAsync(ReportRpc, "{\"ietf-sztp-bootstrap-server:input\":{\"message\":\"hello\"}}");
        var wrongAlgorithm = await device.PostAsync(ReportRpc, Report("bootstrap-complete", hostKeys: HostKey(ed25519.PublicKey, "ssh-rsa")));
        var notAKey = await device.PostAsync(ReportRpc, Report("bootstrap-complete",
            hostKeys: $"{HostKey(ed25519.PublicKey)},{{\"algorithm\":\"ssh-ed25519\",\"key-data\":\"AAAAC3NzaC1lZDI1NTE5\"}}"));

        foreach (var (answer, tag) in new[] { (notJson, "malformed-message"), (unknownType, "unknown-element"), (noType, "malformed-message") })
        {
            Assert.True(answer.Status == 400, answer.Body);
            Assert.Equal(tag, answer.Error.GetProperty("error-tag").GetString());
        }

        foreach (var answer in new[] { wrongAlgorithm, notAKey })
        {
            Assert.True(answer.Status == 400, answer.Body);
            Assert.Equal("invalid-ssh-host-key", answer.Error.GetProperty("error-app-tag").GetString());
        }

        Assert.Contains("is not the key's type 'ssh-ed25519'", wrongAlgorithm.Error.GetProperty("error-message").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, (await TimelineAsync(setup, bookkept.Id)).Steps.Count);
        Assert.Empty((await setup.Customer.GetFromJsonAsync<DeviceHostKeys>($"/api/devices/{bookkept.Id}/ssh-host-keys"))!.Keys);
    }

    [Fact]
    public async Task Reports_from_an_unknown_or_refused_device_are_refused_like_get_bootstrapping_data()
    {
        var setup = await ManufacturerAsync("Refused Report Telecom");
        using var stranger = Device(setup.Ca.IssueDevice("RR-STRANGER"));
        using var device = Device(setup.Ca.IssueDevice("RR-1"));
        var bookkept = await BookkeepAsync(setup, "RR-1", device.Certificate);

        var unknown = await stranger.PostAsync(ReportRpc, Report("bootstrap-initiated"));
        (await setup.Customer.PostAsync($"/api/manufacturers/{setup.Credentials.ManufacturerId}/disable", null)).EnsureSuccessStatusCode();
        var disabled = await device.PostAsync(ReportRpc, Report("bootstrap-initiated"));

        Assert.Equal((401, "unknown-device"), (unknown.Status, unknown.Error.GetProperty("error-app-tag").GetString()));
        Assert.Equal((403, "manufacturer-disabled"), (disabled.Status, disabled.Error.GetProperty("error-app-tag").GetString()));
        Assert.Single((await TimelineAsync(setup, bookkept.Id)).Steps);
    }

    [Fact]
    public async Task The_owner_previews_what_a_device_will_get_without_side_effects_and_only_for_its_own_devices()
    {
        var setup = await ManufacturerAsync("Preview Telecom");
        using var certificate = setup.Ca.IssueDevice("PV-1");
        var bookkept = await BookkeepAsync(setup, "PV-1", certificate);
        var url = $"/api/devices/{bookkept.Id}/bootstrap-preview";

        var preview = (await setup.Customer.GetFromJsonAsync<BootstrapPreview>(url))!;

        Assert.True(preview.WouldBeServed);
        Assert.Null(preview.Refusal);
        Assert.Equal((bookkept.Id, "PV-1", DeviceState.Bookkept), (preview.DeviceId, preview.SerialNumber, preview.State));
        Assert.Equal(Onboarding.Accounts.Contracts.CallHomeStyle.Netconf, preview.CallHomeStyle);
        Assert.Equal((PublicHost, 4334), (preview.CallHome.Host, preview.CallHome.Port));
        Assert.StartsWith("ssh-ed25519 ", preview.CallHome.PublicKey, StringComparison.Ordinal);
        Assert.Equal("merge", preview.ConfigurationHandling);
        Assert.Contains("<remote-address>nms.test.example</remote-address>", preview.Configuration, StringComparison.Ordinal);
        Assert.Contains(preview.CallHome.PublicKey.Split(' ')[1], preview.Configuration, StringComparison.Ordinal);
        Assert.Contains("\"callHomeStyle\":\"netconf\"", await setup.Customer.GetStringAsync(url), StringComparison.Ordinal);

        // The junos style, then a refusal: the owner sees the reason the device would get.
        (await setup.Customer.PutAsJsonAsync($"/api/manufacturers/{setup.Credentials.ManufacturerId}/call-home-style", new { callHomeStyle = "junos" }))
            .EnsureSuccessStatusCode();
        Assert.Contains("device-id \"PV-1\";", (await setup.Customer.GetFromJsonAsync<BootstrapPreview>(url))!.Configuration, StringComparison.Ordinal);
        (await setup.Customer.PostAsync($"/api/manufacturers/{setup.Credentials.ManufacturerId}/disable", null)).EnsureSuccessStatusCode();
        var refused = (await setup.Customer.GetFromJsonAsync<BootstrapPreview>(url))!;
        Assert.False(refused.WouldBeServed);
        Assert.Equal((403, "manufacturer-disabled"), (refused.Refusal!.Status, refused.Refusal.AppTag));

        // No side effects: the device is still only bookkept.
        var timeline = await TimelineAsync(setup, bookkept.Id);
        Assert.Equal(DeviceState.Bookkept, timeline.State);
        Assert.Single(timeline.Steps);

        // Another customer's device is not found, nor is an unknown id; a malformed id is a validation problem.
        var (stranger, _) = await Factory.SignUpAsync("Preview Stranger Telecom");
        await Problem.AssertAsync(await stranger.GetAsync(url), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await stranger.GetAsync($"/api/devices/{bookkept.Id}/ssh-host-keys"), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await setup.Customer.GetAsync($"/api/devices/{DeviceId.New()}/bootstrap-preview"), HttpStatusCode.NotFound);
        await Problem.AssertValidationAsync(await setup.Customer.GetAsync("/api/devices/not-a-uuid/bootstrap-preview"), "id");
        Assert.Equal(HttpStatusCode.Unauthorized, (await Factory.CreateClient().GetAsync(url)).StatusCode);
    }
}
