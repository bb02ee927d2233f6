using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Onboarding.CallHome.Sessions;
using Onboarding.Inventory.Contracts;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.Ssh.Keys;

namespace Onboarding.IntegrationTests;

/// <summary>
/// RFC 8071 call home and Juniper outbound-ssh end to end: a device played by OpenSSH (<c>socat</c> dials the call-home
/// port and runs <c>sshd -i</c> on the connection, with a netconfd behind its "netconf" subsystem) after a real
/// bootstrap at the NMS bootstrap server; the NMS authenticates it by its host key, records CalledHome and hands the
/// session to pre-configuration, which talks NETCONF to netconfd. Every refusal goes on the device's timeline (or, for
/// an unknown key, only the log), changes no state, and the listener serves the next device.
/// </summary>
public class CallHomeTests(CallHomeFactory factory, NetconfdServer netconfd)
    : CallHomeRig(factory), IClassFixture<CallHomeFactory>, IClassFixture<NetconfdServer>
{
    [Fact]
    public async Task A_bootstrapped_device_calls_home_and_preconfiguration_talks_netconf_over_the_session()
    {
        var setup = await ManufacturerAsync("Call Home Telecom");
        using var hostKey = SshHostKey.GenerateEd25519();
        var bookkept = await BootstrapAsync(setup, "CH-1", hostKey);
        using var device = new SshdDevice(hostKey, Nms, netconfd);

        var call = device.CallHome(Factory.CallHomePort);

        var probe = await Factory.Probe.ResultAsync(bookkept.Id);
        Assert.True(probe.Succeeded, probe.RunningConfiguration + "\n" + device.Log);
        Assert.Equal(DeviceState.CalledHome, probe.State);
        Assert.Contains("urn:ietf:params:netconf:base:1.1", probe.Capabilities);
        // netconfd answered get-config (RFC 6241 §7.1: the <data> element) and it is yuma123's netconfd that answered.
        Assert.Equal(System.Xml.Linq.XName.Get("data", "urn:ietf:params:xml:ns:netconf:base:1.0"), System.Xml.Linq.XElement.Parse(probe.RunningConfiguration).Name);
        Assert.True(probe.Capabilities.Any(c => c.Contains("netconfcentral.org", StringComparison.Ordinal)), string.Join("\n", probe.Capabilities));
        var timeline = await TimelineAsync(setup, bookkept.Id);
        Assert.Equal(DeviceState.CalledHome, timeline.State);
        var step = timeline.Steps[^1];
        Assert.Equal(DeviceState.CalledHome, step.State);
        Assert.StartsWith("call-home:127.0.0.1:", step.Source, StringComparison.Ordinal);
        Assert.Equal($"called home, identified by host key {hostKey.PublicKey.Fingerprint} pinned at bootstrap-complete", step.Detail);
        var live = Factory.Services.GetRequiredService<CallHomeSessions>().Find(bookkept.Id);
        Assert.NotNull(live);
        Assert.Equal(hostKey.PublicKey, live.Session.ServerHostKey);

        // The owner sees the live session; another customer sees none of it; an anonymous caller nothing at all.
        var listed = await setup.Customer.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/callhome/sessions");
        var mine = Assert.Single(listed.EnumerateArray());
        Assert.Equal((bookkept.Id.ToString(), "CH-1", live.ConnectionId),
            (mine.GetProperty("deviceId").GetString(), mine.GetProperty("serialNumber").GetString(), mine.GetProperty("connectionId").GetString()));
        Assert.StartsWith("127.0.0.1:", mine.GetProperty("remoteEndPoint").GetString(), StringComparison.Ordinal);
        var (stranger, _) = await Factory.SignUpAsync("Call Home Stranger Telecom");
        Assert.Empty((await stranger.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/callhome/sessions")).EnumerateArray());
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await Factory.CreateClient().GetAsync("/api/callhome/sessions")).StatusCode);

        // The device dials again (it rebooted): the new session replaces the old one, which is closed; no new transition.
        var again = device.CallHome(Factory.CallHomePort);
        await ExitsAsync(call);
        await WaitForLogAsync($"Device CH-1 ({bookkept.Id}) called home again from");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (Factory.Services.GetRequiredService<CallHomeSessions>().Find(bookkept.Id) is not { } current || current.ConnectionId == live.ConnectionId)
        {
            Assert.True(DateTime.UtcNow < deadline, "the second session was not registered");
            await Task.Delay(100);
        }

        Assert.False(again.HasExited);
        Assert.Equal(timeline.Steps.Count, (await TimelineAsync(setup, bookkept.Id)).Steps.Count);
    }

    [Fact]
    public async Task When_preconfiguration_fails_on_the_nms_side_the_session_is_closed_and_the_next_call_home_applies_it()
    {
        // A burst exhausted the NMS's database pool mid pre-configuration: an open session would leave the device in
        // CalledHome with nothing to retry. The NMS closes it; the device dials again (as a persistent call-home device
        // does) and is pre-configured on that session.
        var setup = await ManufacturerAsync("Call Home Retry Telecom");
        using var hostKey = SshHostKey.GenerateEd25519();
        var bookkept = await BootstrapAsync(setup, "CH-RETRY", hostKey);
        using var device = new SshdDevice(hostKey, Nms, netconfd);
        Factory.Probe.ThrowOnce(bookkept.Id);

        var first = device.CallHome(Factory.CallHomePort);
        await ExitsAsync(first);
        await WaitForLogAsync("Pre-configuration of device CH-RETRY threw; closing its session");
        // The connection's task takes the session out of the registry as it ends, just after that line.
        var gone = DateTime.UtcNow.AddSeconds(60);
        while (Factory.Services.GetRequiredService<CallHomeSessions>().Find(bookkept.Id) is not null && DateTime.UtcNow < gone)
            await Task.Delay(100);
        Assert.Null(Factory.Services.GetRequiredService<CallHomeSessions>().Find(bookkept.Id));

        var second = device.CallHome(Factory.CallHomePort);
        var probe = await ProbeAsync(bookkept.Id, device);
        Assert.True(probe.Succeeded, probe.RunningConfiguration + "\n" + device.Log);
        Assert.Equal(DeviceState.CalledHome, probe.State);
        Assert.False(second.HasExited);
        // One CalledHome step: the second call is the same device calling again, not a second transition.
        Assert.Single((await TimelineAsync(setup, bookkept.Id)).Steps, s => s.State == DeviceState.CalledHome);
    }

    [Fact]
    public async Task A_bookkept_device_calls_home_with_the_key_of_its_idevid_certificate()
    {
        var setup = await ManufacturerAsync("IDevID Call Home Telecom");
        using var certificate = setup.Ca.IssueDevice("CH-IDEVID");
        var bookkept = await BookkeepAsync(setup, "CH-IDEVID", certificate);
        using var hostKey = SshdDevice.IdevidHostKey(certificate);
        using var device = new SshdDevice(hostKey, Nms, netconfd);

        device.CallHome(Factory.CallHomePort);

        var timeline = await WaitForStepAsync(setup, bookkept.Id, s => s.State == DeviceState.CalledHome, device);
        Assert.Equal($"called home, identified by host key {hostKey.PublicKey.Fingerprint} of its IDevID certificate", timeline.Steps[^1].Detail);
        Assert.Equal([DeviceState.Bookkept, DeviceState.CalledHome], timeline.Steps.Select(s => s.State));
        Assert.True((await Factory.Probe.ResultAsync(bookkept.Id)).Succeeded);
    }

    [Fact]
    public async Task An_outbound_ssh_device_with_a_wrong_hmac_is_refused_on_its_timeline_and_with_the_right_one_calls_home()
    {
        var setup = await ManufacturerAsync("Outbound SSH Telecom", callHomeStyle: "junos");
        using var hostKey = SshHostKey.GenerateEcdsa(256);
        var bookkept = await BootstrapAsync(setup, "OS-1", hostKey);
        using var device = new SshdDevice(hostKey, Nms, netconfd);

        var forged = device.CallHome(Factory.CallHomePort, device.Preamble("OS-1", "not-the-secret-bootstrap-configured"));
        await ExitsAsync(forged);
        var refused = await WaitForStepAsync(setup, bookkept.Id, s => s.Detail.StartsWith("call home refused (bad-hmac)", StringComparison.Ordinal), device);
        Assert.Equal(DeviceState.Bootstrapping, refused.State);
        Assert.Equal(DeviceState.Bootstrapping, refused.Steps[^1].State);

        device.CallHome(Factory.CallHomePort, device.Preamble("OS-1", Nms.DeviceSecret(bookkept.Id)));

        var probe = await Factory.Probe.ResultAsync(bookkept.Id);
        Assert.True(probe.Succeeded, probe.RunningConfiguration);
        Assert.Equal(DeviceState.CalledHome, (await TimelineAsync(setup, bookkept.Id)).State);
        await WaitForLogAsync("outbound-ssh preamble, DEVICE-ID OS-1, 5 lines with HOST-KEY and HMAC");
    }

    [Fact]
    public async Task A_three_line_preamble_naming_another_device_is_refused_on_the_key_holders_timeline_only()
    {
        var setup = await ManufacturerAsync("Device Id Telecom", callHomeStyle: "junos");
        using var keyA = SshHostKey.GenerateEd25519();
        using var keyB = SshHostKey.GenerateEd25519();
        var a = await BootstrapAsync(setup, "DI-A", keyA);
        var b = await BootstrapAsync(setup, "DI-B", keyB);
        using var device = new SshdDevice(keyA, Nms, netconfd);

        await ExitsAsync(device.CallHome(Factory.CallHomePort, device.Preamble("DI-B", secret: null)));

        var timeline = await WaitForStepAsync(setup, a.Id, s => s.Detail.StartsWith("call home refused (device-id-mismatch)", StringComparison.Ordinal), device);
        Assert.Contains($"names another device of this owner ({b.Id})", timeline.Steps[^1].Detail, StringComparison.Ordinal);
        Assert.Equal(DeviceState.Bootstrapping, timeline.State);
        var other = await TimelineAsync(setup, b.Id);
        Assert.Equal(DeviceState.Bootstrapping, other.State);
        Assert.DoesNotContain(other.Steps, s => s.Detail.Contains("call home", StringComparison.Ordinal));

        // The same device with its own DEVICE-ID (3-line form) is served.
        device.CallHome(Factory.CallHomePort, device.Preamble("DI-A", secret: null));
        Assert.True((await Factory.Probe.ResultAsync(a.Id)).Succeeded);
    }

    [Fact]
    public async Task Refused_devices_change_no_state_and_the_listener_keeps_serving_the_next_device()
    {
        // An unknown key: nobody to put it on, so only the log (with the connection id) tells.
        using var strangerKey = SshHostKey.GenerateEd25519();
        using var stranger = new SshdDevice(strangerKey, Nms, netconfd);
        await ExitsAsync(stranger.CallHome(Factory.CallHomePort));
        Assert.Contains("on connection", await WaitForLogAsync($"Call home refused (unknown-key)"), StringComparison.Ordinal);

        // Disabled manufacturer.
        var disabled = await ManufacturerAsync("Disabled Call Home Telecom");
        using var disabledKey = SshHostKey.GenerateEd25519();
        var disabledDevice = await BootstrapAsync(disabled, "RF-DISABLED", disabledKey);
        (await disabled.Customer.PostAsync($"/api/manufacturers/{disabled.Credentials.ManufacturerId}/disable", null)).EnsureSuccessStatusCode();
        using (var device = new SshdDevice(disabledKey, Nms, netconfd))
        {
            await ExitsAsync(device.CallHome(Factory.CallHomePort));
            var timeline = await WaitForStepAsync(disabled, disabledDevice.Id, s => s.Detail.StartsWith("call home refused (manufacturer-disabled)", StringComparison.Ordinal), device);
            Assert.Equal(DeviceState.Bootstrapping, timeline.State);
        }

        // The owner replaced the manufacturer's CA: the bookkept certificate no longer chains to it.
        var rekeyed = await ManufacturerAsync("New CA Call Home Telecom");
        using var rekeyedKey = SshHostKey.GenerateEd25519();
        var rekeyedDevice = await BootstrapAsync(rekeyed, "RF-CHAIN", rekeyedKey);
        using (var otherCa = new FactoryCa("Another Factory CA"))
        {
            (await rekeyed.Customer.PutAsJsonAsync($"/api/manufacturers/{rekeyed.Credentials.ManufacturerId}/ca", new { certificatesPem = otherCa.Pem }))
                .EnsureSuccessStatusCode();
        }

        using (var device = new SshdDevice(rekeyedKey, Nms, netconfd))
        {
            await ExitsAsync(device.CallHome(Factory.CallHomePort));
            var timeline = await WaitForStepAsync(rekeyed, rekeyedDevice.Id, s => s.Detail.StartsWith("call home refused (untrusted-chain)", StringComparison.Ordinal), device);
            Assert.Equal(DeviceState.Bootstrapping, timeline.State);
        }

        // A device its owner rejected (revoked) stays rejected and gets no session.
        var revoked = await ManufacturerAsync("Revoked Call Home Telecom");
        using var revokedKey = SshHostKey.GenerateEd25519();
        var revokedDevice = await BootstrapAsync(revoked, "RF-REVOKED", revokedKey);
        using (var scope = Factory.Services.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<IDeviceLifecycle>()
                .RecordStepAsync(revokedDevice.Id, new DeviceStep(DeviceState.Rejected, "test", "revoked by its owner"), CancellationToken.None);
        }

        using (var device = new SshdDevice(revokedKey, Nms, netconfd))
        {
            await ExitsAsync(device.CallHome(Factory.CallHomePort));
            var timeline = await WaitForStepAsync(revoked, revokedDevice.Id, s => s.Detail.StartsWith("call home refused (device-rejected)", StringComparison.Ordinal), device);
            Assert.Equal(DeviceState.Rejected, timeline.State);
        }

        Assert.Null(Factory.Services.GetRequiredService<CallHomeSessions>().Find(revokedDevice.Id));

        // And the next good device is served.
        var good = await ManufacturerAsync("After Refusals Telecom");
        using var goodKey = SshHostKey.GenerateEd25519();
        var goodDevice = await BootstrapAsync(good, "RF-GOOD", goodKey);
        using var goodSshd = new SshdDevice(goodKey, Nms, netconfd);
        goodSshd.CallHome(Factory.CallHomePort);
        Assert.True((await Factory.Probe.ResultAsync(goodDevice.Id)).Succeeded, goodSshd.Log.ToString());
    }
}
