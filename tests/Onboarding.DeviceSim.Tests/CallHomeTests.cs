using System.Net.Sockets;
using System.Text;
using System.Xml.Linq;
using Onboarding.DeviceSim.CallHome;
using Onboarding.Netconf;
using Onboarding.Netconf.Datastore;
using Onboarding.Netconf.Messages;
using Onboarding.Netconf.OutboundSsh;
using Onboarding.Ssh;
using Onboarding.Ssh.Keys;

namespace Onboarding.DeviceSim.Tests;

/// <summary>
/// The simulator's call-home mode against an NMS side written in the test with our SSH and NETCONF clients over the
/// accepted socket: preamble and HMAC, the pinned host key, configuration through the candidate, reconnects, refusals
/// and the faults.
/// </summary>
public sealed class CallHomeTests : IDisposable
{
    internal static readonly XNamespace Sim = "urn:example:devicesim";

    /// <summary>A guard against a hung test, not a timing assertion: nothing here should take more than seconds.</summary>
    private readonly CancellationTokenSource _guard = new(TimeSpan.FromMinutes(3));
    private readonly SimulatedFleet _fleet = new();
    private readonly TestNms _nms = new();

    private Onboarding.DeviceSim.Bootstrap.DeviceIdentity Device => _fleet.Devices[0];

    [Fact]
    public async Task Junos_device_announces_its_pinned_key_with_an_hmac_and_is_configured_through_the_candidate()
    {
        _fleet.Bootstrapped(CallHomeStyle.Junos, _nms.Port);
        var device = Dial(_fleet.Settings());

        var (preamble, stream) = await TestNms.ReadPreambleAsync(await _nms.AcceptAsync(_guard.Token));
        Assert.Equal(Device.Serial, preamble.DeviceId);
        Assert.True(preamble.VerifyHmac(Encoding.UTF8.GetBytes(SimulatedFleet.Secret)));
        Assert.False(preamble.VerifyHmac("another secret"u8));
        var pinned = _fleet.PinnedKey(Device);
        Assert.Equal(pinned, SshPublicKey.Parse(preamble.HostKeyBlob()));

        await using (var ssh = await TestNms.ConnectSshAsync(stream, _fleet.NmsKey, context => context.HostKey.Equals(pinned)))
        {
            using var netconf = await OpenNetconfAsync(ssh);
            Assert.True(netconf.ServerCapabilities.HasCandidate);
            Assert.False(netconf.ServerCapabilities.Has(NetconfCapabilities.WritableRunning));
            await netconf.EditConfigAsync(DatastoreName.Candidate, HostName("rtr-1"));
            Assert.Empty((await netconf.GetConfigAsync(DatastoreName.Running)).Descendants(Sim + "host-name"));
            await netconf.CommitAsync();
            Assert.Equal("rtr-1", (await netconf.GetConfigAsync(DatastoreName.Running)).Descendants(Sim + "host-name").Single().Value);
            // :candidate devices do not let running be written directly (RFC 6241 §8.2 is not advertised).
            var refused = await Assert.ThrowsAsync<NetconfRpcException>(() => netconf.EditConfigAsync(DatastoreName.Running, HostName("rtr-2")));
            Assert.Equal("operation-not-supported", refused.Errors.Single().Tag);
            Assert.True((await netconf.CloseSessionAsync()).IsOk);
        }

        var outcome = await device;
        Assert.True(outcome.Ok, outcome.Detail);
        Assert.True(outcome.Configured);
        Assert.Equal(1, outcome.Connections);
        Assert.Equal(_fleet.State(Device).HostKeyPublic.Split(' ')[..2], outcome.HostKey!.Split(' ')[..2]);
        Assert.Equal("rtr-1", XElement.Parse(outcome.RunningConfiguration!).Descendants(Sim + "host-name").Single().Value);
    }

    [Fact]
    public async Task Junos_device_without_a_secret_sends_the_three_line_preamble()
    {
        _fleet.Bootstrapped(CallHomeStyle.Junos, _nms.Port);
        var state = _fleet.State(Device);
        (state with { CallHome = state.CallHome! with { DeviceSecret = null } }).Save(_fleet.StateDirectory);
        var device = Dial(_fleet.Settings());

        var (preamble, stream) = await TestNms.ReadPreambleAsync(await _nms.AcceptAsync(_guard.Token));
        Assert.Equal(Device.Serial, preamble.DeviceId);
        Assert.Null(preamble.HostKey);
        Assert.Null(preamble.Hmac);
        await ConfigureAsync(stream, _fleet.PinnedKey(Device));
        Assert.True((await device).Ok);
    }

    [Fact]
    public async Task Netconf_style_device_sends_no_preamble_and_dials_the_address_of_its_onboarding_information()
    {
        _fleet.Bootstrapped(CallHomeStyle.Netconf, _nms.Port);
        Assert.Equal(new CallHomeTarget(CallHomeStyle.Netconf, "127.0.0.1", _nms.Port, SimulatedFleet.NmsUser, _fleet.NmsKey.PublicKey.ToAuthorizedKeysLine(), null),
            _fleet.State(Device).CallHome);
        var device = Dial(_fleet.Settings());

        var socket = await _nms.AcceptAsync(_guard.Token);
        var stream = new NetworkStream(socket, ownsSocket: true);
        var first = new byte[4];
        await stream.ReadExactlyAsync(first);
        Assert.Equal("SSH-"u8.ToArray(), first);
        await ConfigureAsync(new PrefixedStream(first, stream), _fleet.PinnedKey(Device));
        Assert.True((await device).Ok);
    }

    [Fact]
    public async Task Device_dials_again_with_back_off_after_the_nms_drops_the_first_connection()
    {
        _fleet.Bootstrapped(CallHomeStyle.Netconf, _nms.Port);
        var failures = new List<string>();
        var device = Dial(_fleet.Settings(), (reason, _) => { lock (failures) failures.Add(reason); });

        using (var dropped = await _nms.AcceptAsync(_guard.Token))
            dropped.Close();
        await ConfigureAsync(new NetworkStream(await _nms.AcceptAsync(_guard.Token), ownsSocket: true), _fleet.PinnedKey(Device));

        var outcome = await device;
        Assert.True(outcome.Ok, outcome.Detail);
        Assert.Equal(2, outcome.Connections);
        Assert.Equal(["dropped-in-handshake"], failures);
    }

    [Fact]
    public async Task Device_keeps_dialing_while_nothing_listens_and_gets_through_once_the_nms_is_up()
    {
        int port;
        using (var reserve = new TestNms())
            port = reserve.Port;
        _fleet.Bootstrapped(CallHomeStyle.Netconf, port);
        var refused = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var device = Dial(_fleet.Settings(), (reason, _) => refused.TrySetResult(reason));

        Assert.Equal("connect-connection-refused", await refused.Task.WaitAsync(_guard.Token));
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
        listener.Start();
        await ConfigureAsync(new NetworkStream(await listener.AcceptSocketAsync(_guard.Token), ownsSocket: true), _fleet.PinnedKey(Device));

        var outcome = await device;
        Assert.True(outcome.Ok, outcome.Detail);
        Assert.True(outcome.Connections >= 2);
    }

    [Fact]
    public async Task Device_refuses_a_client_key_it_was_not_told_to_accept()
    {
        _fleet.Bootstrapped(CallHomeStyle.Netconf, _nms.Port);
        var device = Dial(_fleet.Settings() with { MaxAttempts = 1 });
        using var stranger = SshHostKey.GenerateEd25519();

        var stream = new NetworkStream(await _nms.AcceptAsync(_guard.Token), ownsSocket: true);
        await Assert.ThrowsAsync<SshAuthenticationException>(() => TestNms.ConnectSshAsync(stream, stranger, _ => true));

        var outcome = await device;
        Assert.False(outcome.Ok);
        Assert.Equal("nms-auth-failed", outcome.Reason);
        Assert.Equal(0, outcome.Sessions);
    }

    [Fact]
    public async Task Device_refuses_the_right_key_under_another_user_name()
    {
        _fleet.Bootstrapped(CallHomeStyle.Netconf, _nms.Port);
        var device = Dial(_fleet.Settings() with { MaxAttempts = 1 });

        var stream = new NetworkStream(await _nms.AcceptAsync(_guard.Token), ownsSocket: true);
        await Assert.ThrowsAsync<SshAuthenticationException>(() => TestNms.ConnectSshAsync(stream, _fleet.NmsKey, _ => true, user: "root"));
        Assert.Equal("nms-auth-failed", (await device).Reason);
    }

    [Fact]
    public async Task Wrong_key_fault_presents_a_host_key_the_nms_did_not_pin()
    {
        _fleet.Bootstrapped(CallHomeStyle.Junos, _nms.Port);
        var device = Dial(_fleet.Settings() with { Fault = CallHomeFault.WrongKey, MaxAttempts = 1 });

        var (preamble, stream) = await TestNms.ReadPreambleAsync(await _nms.AcceptAsync(_guard.Token));
        var pinned = _fleet.PinnedKey(Device);
        // The preamble still announces (and MACs) the pinned key; SSH presents another one.
        Assert.True(preamble.VerifyHmac(Encoding.UTF8.GetBytes(SimulatedFleet.Secret)));
        Assert.Equal(pinned, SshPublicKey.Parse(preamble.HostKeyBlob()));
        SshPublicKey? presented = null;
        var error = await Assert.ThrowsAnyAsync<SshProtocolException>(() => TestNms.ConnectSshAsync(stream, _fleet.NmsKey, context =>
        {
            presented = context.HostKey;
            return context.HostKey.Equals(pinned);
        }));
        Assert.Equal(SshDisconnectReason.HostKeyNotVerifiable, error.Reason);
        Assert.NotNull(presented);
        Assert.NotEqual(pinned, presented);

        var outcome = await device;
        Assert.Equal("host-key-rejected", outcome.Reason);
    }

    [Fact]
    public async Task Drop_mid_config_fault_closes_the_socket_after_the_first_edit_and_the_device_calls_again()
    {
        _fleet.Bootstrapped(CallHomeStyle.Netconf, _nms.Port);
        var device = Dial(_fleet.Settings() with { Fault = CallHomeFault.DropMidConfig });
        var pinned = _fleet.PinnedKey(Device);

        await using (var ssh = await TestNms.ConnectSshAsync(new NetworkStream(await _nms.AcceptAsync(_guard.Token), ownsSocket: true), _fleet.NmsKey, c => c.HostKey.Equals(pinned)))
        {
            using var netconf = await OpenNetconfAsync(ssh);
            var lost = await Assert.ThrowsAnyAsync<Exception>(() => netconf.EditConfigAsync(DatastoreName.Candidate, HostName("first")));
            Assert.True(lost is NetconfException or SshConnectionLostException or IOException, lost.ToString());
        }
        await ConfigureAsync(new NetworkStream(await _nms.AcceptAsync(_guard.Token), ownsSocket: true), pinned);

        var outcome = await device;
        Assert.True(outcome.Ok, outcome.Detail);
        Assert.Equal(1, outcome.FaultsInjected);
        Assert.Equal(2, outcome.Connections);
    }

    [Fact]
    public async Task Writable_running_device_refuses_the_candidate_and_is_configured_by_editing_running()
    {
        _fleet.Bootstrapped(CallHomeStyle.Netconf, _nms.Port);
        var device = Dial(_fleet.Settings() with { WritableRunningOnly = true });
        var pinned = _fleet.PinnedKey(Device);

        await using (var ssh = await TestNms.ConnectSshAsync(new NetworkStream(await _nms.AcceptAsync(_guard.Token), ownsSocket: true), _fleet.NmsKey, c => c.HostKey.Equals(pinned)))
        {
            using var netconf = await OpenNetconfAsync(ssh);
            Assert.False(netconf.ServerCapabilities.HasCandidate);
            Assert.True(netconf.ServerCapabilities.Has(NetconfCapabilities.WritableRunning));
            var refused = await Assert.ThrowsAsync<NetconfRpcException>(() => netconf.EditConfigAsync(DatastoreName.Candidate, HostName("x")));
            Assert.Equal("operation-not-supported", refused.Errors.Single().Tag);
            await Assert.ThrowsAsync<NetconfRpcException>(() => netconf.CommitAsync());
            await netconf.EditConfigAsync(DatastoreName.Running, HostName("direct"));
            Assert.Equal("direct", (await netconf.GetConfigAsync(DatastoreName.Running)).Descendants(Sim + "host-name").Single().Value);
            await netconf.CloseSessionAsync();
        }
        Assert.True((await device).Ok);
    }

    [Fact]
    public async Task Cli_device_records_commands_and_fails_the_configured_failing_one()
    {
        _fleet.Bootstrapped(CallHomeStyle.Netconf, _nms.Port);
        var device = Dial(_fleet.Settings() with { Cli = true, FailingCommand = "bogus" });
        var pinned = _fleet.PinnedKey(Device);

        await using (var ssh = await TestNms.ConnectSshAsync(new NetworkStream(await _nms.AcceptAsync(_guard.Token), ownsSocket: true), _fleet.NmsKey, c => c.HostKey.Equals(pinned)))
        {
            var (okStatus, okOut, _) = await ExecAsync(ssh, "set system host-name rtr-9");
            Assert.Equal((uint?)0, okStatus);
            Assert.Equal("ok: set system host-name rtr-9\n", okOut);
            var (failedStatus, _, stderr) = await ExecAsync(ssh, "set bogus value");
            Assert.Equal((uint?)1, failedStatus);
            Assert.Contains("failed", stderr, StringComparison.Ordinal);
            var shell = await ssh.OpenSessionAsync();
            Assert.False(await shell.RequestShellAsync());
        }

        var outcome = await device;
        Assert.True(outcome.Ok, outcome.Detail);
        Assert.Equal(["set system host-name rtr-9", "set bogus value"], outcome.Commands);
    }

    [Fact]
    public async Task Exec_is_refused_by_a_netconf_only_device()
    {
        _fleet.Bootstrapped(CallHomeStyle.Netconf, _nms.Port);
        var device = Dial(_fleet.Settings() with { MaxAttempts = 1 });
        var pinned = _fleet.PinnedKey(Device);

        await using (var ssh = await TestNms.ConnectSshAsync(new NetworkStream(await _nms.AcceptAsync(_guard.Token), ownsSocket: true), _fleet.NmsKey, c => c.HostKey.Equals(pinned)))
        {
            var channel = await ssh.OpenSessionAsync();
            Assert.False(await channel.ExecAsync("show version"));
        }
        var outcome = await device;
        Assert.Equal("closed-unconfigured", outcome.Reason);
        Assert.Empty(outcome.Commands);
    }

    [Fact]
    public async Task Idevid_host_key_is_presented_as_an_rfc6187_certificate()
    {
        _fleet.Bootstrapped(CallHomeStyle.Netconf, _nms.Port);
        var device = Dial(_fleet.Settings() with { HostKey = HostKeySource.IdevId });

        SshHostKeyContext? seen = null;
        var stream = new NetworkStream(await _nms.AcceptAsync(_guard.Token), ownsSocket: true);
        await using (var ssh = await TestNms.ConnectSshAsync(stream, _fleet.NmsKey, context => (seen = context).CertificateChain.Count > 0))
        {
            using var netconf = await OpenNetconfAsync(ssh);
            await netconf.EditConfigAsync(DatastoreName.Candidate, HostName("x509"));
            await netconf.CommitAsync();
        }
        Assert.Equal("x509v3-ecdsa-sha2-nistp256", seen!.HostKeyAlgorithm);
        Assert.Equal(Device.Certificate.RawData, seen.CertificateChain[0].RawData);
        Assert.Equal(SshPublicKey.FromCertificate(Device.Certificate), seen.HostKey);
        Assert.True((await device).Ok);
    }

    [Fact]
    public async Task Staying_device_dials_again_after_the_nms_closes_a_configured_session()
    {
        _fleet.Bootstrapped(CallHomeStyle.Netconf, _nms.Port);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(_guard.Token);
        var device = Dial(_fleet.Settings() with { Stay = true }, token: stop.Token);
        var pinned = _fleet.PinnedKey(Device);

        await ConfigureAsync(new NetworkStream(await _nms.AcceptAsync(_guard.Token), ownsSocket: true), pinned);
        // Persistent call home (RFC 8071 §4.1): the device is back; the configuration it kept is still there.
        await using (var ssh = await TestNms.ConnectSshAsync(new NetworkStream(await _nms.AcceptAsync(_guard.Token), ownsSocket: true), _fleet.NmsKey, c => c.HostKey.Equals(pinned)))
        {
            using var netconf = await OpenNetconfAsync(ssh);
            Assert.Equal("configured", (await netconf.GetConfigAsync(DatastoreName.Running)).Descendants(Sim + "host-name").Single().Value);
            stop.Cancel();
            var outcome = await device;
            Assert.True(outcome.Ok, outcome.Detail);
            Assert.Equal(2, outcome.Connections);
        }
    }

    [Fact]
    public async Task Staying_device_stopped_while_its_configured_session_is_up_reports_configured()
    {
        // The load tool stops --stay devices after the run, their sessions still open: they were configured on them
        // (the NMS shows them Onboarded), so the report must not call them "stopped before configured".
        _fleet.Bootstrapped(CallHomeStyle.Netconf, _nms.Port);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(_guard.Token);
        var counters = new CallHomeCounters();
        var firstConfigured = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var device = new CallHomeDevice(Device, _fleet.Settings() with { Stay = true }, counters) { FirstConfigured = () => firstConfigured.TrySetResult() };
        var run = Task.Run(() => device.RunAsync(stop.Token));
        var pinned = _fleet.PinnedKey(Device);

        await using (var ssh = await TestNms.ConnectSshAsync(new NetworkStream(await _nms.AcceptAsync(_guard.Token), ownsSocket: true), _fleet.NmsKey, c => c.HostKey.Equals(pinned)))
        {
            using var netconf = await OpenNetconfAsync(ssh);
            await netconf.EditConfigAsync(DatastoreName.Candidate, HostName("configured"));
            await netconf.CommitAsync();
            await firstConfigured.Task.WaitAsync(_guard.Token);
            Assert.Equal(1, counters.Configured); // counted as it happens, not when the session ends

            stop.Cancel();
            var outcome = await run;
            Assert.True(outcome.Ok, outcome.Reason + ": " + outcome.Detail);
            Assert.True(outcome.Configured);
            Assert.Equal(1, outcome.Connections);
        }

        // Stopped before any configuration, the device says so.
        using var early = CancellationTokenSource.CreateLinkedTokenSource(_guard.Token);
        var unconfigured = Task.Run(() => new CallHomeDevice(Device, _fleet.Settings() with { Stay = true }, new CallHomeCounters()).RunAsync(early.Token));
        await using (var ssh = await TestNms.ConnectSshAsync(new NetworkStream(await _nms.AcceptAsync(_guard.Token), ownsSocket: true), _fleet.NmsKey, c => c.HostKey.Equals(pinned)))
        {
            early.Cancel();
            Assert.Equal("cancelled", (await unconfigured).Reason);
        }
    }

    [Fact]
    public async Task Device_without_a_call_home_target_stops_with_a_clear_reason()
    {
        var outcome = await Dial(_fleet.Settings());
        Assert.Equal("no-target", outcome.Reason);
        Assert.Contains("--nms", outcome.Detail, StringComparison.Ordinal);
        Assert.Equal(0, outcome.Connections);
    }

    private Task<CallHomeOutcome> Dial(CallHomeSettings settings, Action<string, string>? failed = null, CancellationToken? token = null)
    {
        var device = new CallHomeDevice(Device, settings, new CallHomeCounters()) { AttemptFailed = failed };
        return Task.Run(() => device.RunAsync(token ?? _guard.Token));
    }

    private async Task ConfigureAsync(Stream stream, SshPublicKey pinned)
    {
        await using var ssh = await TestNms.ConnectSshAsync(stream, _fleet.NmsKey, c => c.HostKey.Equals(pinned));
        using var netconf = await OpenNetconfAsync(ssh);
        await netconf.EditConfigAsync(DatastoreName.Candidate, HostName("configured"));
        await netconf.CommitAsync();
        Assert.True((await netconf.CloseSessionAsync()).IsOk);
    }

    internal static async Task<NetconfClientSession> OpenNetconfAsync(SshClientSession ssh)
    {
        var channel = await ssh.OpenSessionAsync();
        Assert.True(await channel.RequestSubsystemAsync("netconf"));
        return await NetconfClientSession.ConnectAsync(channel.AsStream());
    }

    private static async Task<(uint? ExitStatus, string Output, string Error)> ExecAsync(SshClientSession ssh, string command)
    {
        var channel = await ssh.OpenSessionAsync();
        Assert.True(await channel.ExecAsync(command));
        using var reader = new StreamReader(channel.AsStream());
        var output = await reader.ReadToEndAsync();
        var status = await channel.ExitStatus;
        await channel.Completion;
        return (status, output, channel.StandardError);
    }

    internal static XElement HostName(string name) => new(Sim + "system", new XElement(Sim + "host-name", name));

    public void Dispose()
    {
        _nms.Dispose();
        _fleet.Dispose();
        _guard.Dispose();
    }
}
