using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Onboarding.CallHome.Sessions;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.Ssh.Keys;

namespace Onboarding.IntegrationTests;

/// <summary>A host that sends call-home keepalives every 2 s and gives up after 3 unanswered intervals.</summary>
public sealed class KeepaliveCallHomeFactory : CallHomeFactory
{
    public KeepaliveCallHomeFactory()
    {
        With("Nms:CallHome:KeepaliveInterval", "00:00:02");
        With("Nms:CallHome:KeepaliveCountMax", "3");
    }
}

/// <summary>
/// Keepalives on live call-home sessions (keepalive@openssh.com, like OpenSSH's ServerAliveInterval): OpenSSH sshd as
/// the device answers them (REQUEST_FAILURE, RFC 4254 §4), which moves the session's LastSeen; when the path goes
/// silent without closing, the session is found half-open, closed, logged and removed from the registry.
/// </summary>
public class CallHomeKeepaliveTests(KeepaliveCallHomeFactory factory, NetconfdServer netconfd)
    : CallHomeRig(factory), IClassFixture<KeepaliveCallHomeFactory>, IClassFixture<NetconfdServer>
{
    private CallHomeSessions Sessions => Factory.Services.GetRequiredService<CallHomeSessions>();

    [Fact]
    public async Task Answered_keepalives_move_last_seen_and_a_silent_path_is_dropped_as_half_open()
    {
        var setup = await ManufacturerAsync("Keepalive Telecom");
        using var hostKey = SshHostKey.GenerateEd25519();
        var bookkept = await BootstrapAsync(setup, "CH-KA-1", hostKey);
        using var device = new SshdDevice(hostKey, Nms, netconfd);
        await using var path = new StallingRelay(Factory.CallHomePort);

        var call = device.CallHome(path.Port);
        var probe = await Factory.Probe.ResultAsync(bookkept.Id);
        Assert.True(probe.Succeeded, probe.RunningConfiguration + "\n" + device.Log);
        var live = Assert.IsType<LiveCallHome>(Sessions.Find(bookkept.Id));

        // sshd answers the keepalives: LastSeen moves past the moment pre-configuration ended.
        var firstSeen = live.LastSeen;
        await EventuallyAsync(() => live.LastSeen > firstSeen, "LastSeen never moved: keepalives unanswered?\n" + device.Log);
        Assert.Equal(live.ConnectionId, Sessions.Find(bookkept.Id)?.ConnectionId);

        // The path goes silent; nobody closes anything. The NMS finds out by itself and lets the session go.
        path.Stall();
        await EventuallyAsync(() => Sessions.Find(bookkept.Id) is null, "the half-open session stayed in the registry");
        var logged = await WaitForLogAsync($"Call-home session of device CH-KA-1 ({bookkept.Id}, connection {live.ConnectionId})");
        Assert.Contains("is half-open: 3 keepalives unanswered", logged, StringComparison.Ordinal);
        Assert.True(live.Session.Completion.IsCompleted);
        Assert.Empty((await setup.Customer.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/callhome/sessions")).EnumerateArray());
        // The device's side saw no close at all (the relay kept its connection open): only the NMS acted.
        Assert.False(call.HasExited);

        // The device, redialling over a working path, gets a session again.
        var again = device.CallHome(Factory.CallHomePort);
        await EventuallyAsync(() => Sessions.Find(bookkept.Id) is { } current && current.ConnectionId != live.ConnectionId, "the device could not call home again\n" + device.Log);
        Assert.False(again.HasExited);
    }

    private static async Task EventuallyAsync(Func<bool> condition, string failure)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(100);
        }
    }
}
