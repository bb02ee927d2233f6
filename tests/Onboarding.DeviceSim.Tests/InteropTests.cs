using System.Diagnostics;
using System.Xml.Linq;
using Onboarding.DeviceSim.CallHome;

namespace Onboarding.DeviceSim.Tests;

/// <summary>
/// Real NMS-side peers against the simulated device: paramiko's client over a socket it accepted (Debian's
/// python3-paramiko), and OpenSSH's <c>ssh -s netconf</c> whose ProxyCommand is <c>socat - TCP-LISTEN</c>, so the
/// connection the device dials becomes ssh's transport. Both speak base:1.0 (end-of-message framing).
/// </summary>
[Trait("Category", "Interop")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class InteropTests : IDisposable
{
    private const string Eom = "]]>]]>";
    private readonly CancellationTokenSource _guard = new(TimeSpan.FromMinutes(3));
    private readonly SimulatedFleet _fleet = new();
    private readonly string _keyFile;

    public InteropTests()
    {
        _fleet.Bootstrapped(CallHomeStyle.Netconf, 1);
        _keyFile = Path.Combine(_fleet.Root, "nms_ed25519");
        File.WriteAllText(_keyFile, _fleet.NmsKey.ToOpenSshPrivateKey("nms"));
        File.SetUnixFileMode(_keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    [Fact]
    public async Task Paramiko_over_an_accepted_socket_configures_the_device_through_netconf()
    {
        var device = _fleet.Devices[0];
        var script = Path.Combine(_fleet.Root, "nms.py");
        await File.WriteAllTextAsync(script, ParamikoNms);
        var pinned = _fleet.PinnedKey(device);
        using var nms = Start("/usr/bin/python3", [script, _keyFile, SimulatedFleet.NmsUser, Convert.ToBase64String(pinned.Blob)]);

        var port = int.Parse(await nms.StandardOutput.ReadLineAsync(_guard.Token) ?? "0", System.Globalization.CultureInfo.InvariantCulture);
        if (port == 0)
            Assert.Fail("the paramiko NMS did not start: " + (await OutputAsync(nms)).Errors);
        var dialing = Task.Run(() => new CallHomeDevice(device, _fleet.Settings() with { NmsPort = port, MaxAttempts = 3 }, new CallHomeCounters()).RunAsync(_guard.Token));

        var (output, errors) = await OutputAsync(nms);
        Assert.True(nms.ExitCode == 0, output + errors);
        Assert.Contains("HOSTKEY-OK", output, StringComparison.Ordinal);
        Assert.Contains("CANDIDATE", output, StringComparison.Ordinal);
        Assert.Contains("KEEPALIVE-ANSWERED", output, StringComparison.Ordinal);
        Assert.Contains("<host-name>paramiko</host-name>", output, StringComparison.Ordinal);
        var outcome = await dialing;
        Assert.True(outcome.Ok, outcome.Detail);
        Assert.Equal("paramiko", XElement.Parse(outcome.RunningConfiguration!).Descendants(CallHomeTests.Sim + "host-name").Single().Value);
    }

    [Fact]
    public async Task Openssh_ssh_behind_socat_is_the_nms_and_configures_the_device()
    {
        var device = _fleet.Devices[0];
        int port;
        using (var reserve = new TestNms())
            port = reserve.Port;
        var knownHosts = Path.Combine(_fleet.Root, "known_hosts");
        await File.WriteAllTextAsync(knownHosts, $"sim-device {_fleet.State(device).HostKeyPublic}\n");
        // The device dials until socat listens: ssh starts socat only when it connects.
        var dialing = Task.Run(() => new CallHomeDevice(device, _fleet.Settings() with { NmsPort = port }, new CallHomeCounters()).RunAsync(_guard.Token));

        using var ssh = Start("ssh",
        [
            "-F", "/dev/null", "-o", $"ProxyCommand=socat - TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr", "-o", "BatchMode=yes",
            "-o", $"UserKnownHostsFile={knownHosts}", "-o", "GlobalKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=yes",
            "-o", "HostKeyAlias=sim-device", "-o", "IdentitiesOnly=yes", "-i", _keyFile, "-l", SimulatedFleet.NmsUser, "-s", "sim-device", "netconf",
        ]);
        // base:1.0 only, so the session stays in end-of-message framing (RFC 6242 §4.1); the device answers in order.
        await ssh.StandardInput.WriteAsync(
            """<hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><capabilities><capability>urn:ietf:params:netconf:base:1.0</capability></capabilities></hello>""" + Eom +
            Rpc(1, """<edit-config><target><candidate/></target><config><system xmlns="urn:example:devicesim"><host-name>openssh</host-name></system></config></edit-config>""") +
            Rpc(2, "<commit/>") +
            Rpc(3, "<get-config><source><running/></source></get-config>") +
            Rpc(4, "<close-session/>"));
        await ssh.StandardInput.FlushAsync(_guard.Token);

        var (output, errors) = await OutputAsync(ssh);
        Assert.True(ssh.ExitCode == 0, output + errors);
        var replies = output.Split(Eom, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains("capability:candidate", replies[0], StringComparison.Ordinal);
        Assert.Equal(5, replies.Length);
        Assert.Contains("<host-name>openssh</host-name>", replies[3], StringComparison.Ordinal);

        var outcome = await dialing;
        Assert.True(outcome.Ok, outcome.Detail);
        Assert.Equal("openssh", XElement.Parse(outcome.RunningConfiguration!).Descendants(CallHomeTests.Sim + "host-name").Single().Value);
    }

    /// <summary>Waits for the peer to exit (killing it when the guard fires) and returns what it wrote.</summary>
    private async Task<(string Output, string Errors)> OutputAsync(Process process)
    {
        var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var errors = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            await process.WaitForExitAsync(_guard.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{process.StartInfo.FileName} did not finish: {await output}{await errors}");
        }
        return (await output, await errors);
    }

    private static string Rpc(int id, string operation) =>
        $"""<rpc message-id="{id}" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">{operation}</rpc>""" + Eom;

    private static Process Start(string file, IReadOnlyList<string> arguments)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);
        return Process.Start(info) ?? throw new InvalidOperationException($"{file} did not start");
    }

    /// <summary>The NMS in paramiko: listen, accept, SSH client on the accepted socket, hello, edit/commit/get-config.</summary>
    private const string ParamikoNms = """
        import socket, sys
        import paramiko

        key_file, user, expected = sys.argv[1:4]
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        print(server.getsockname()[1], flush=True)
        sock, _ = server.accept()
        transport = paramiko.Transport(sock)
        transport.start_client(timeout=60)
        if transport.get_remote_server_key().get_base64() != expected:
            print("HOSTKEY-MISMATCH", flush=True)
            sys.exit(3)
        print("HOSTKEY-OK", flush=True)
        transport.auth_publickey(user, paramiko.Ed25519Key.from_private_key_file(key_file))
        channel = transport.open_session()
        channel.invoke_subsystem("netconf")
        EOM = b"]]>]]>"
        pending = b""

        def send(text):
            channel.sendall(text.encode() + EOM)

        def receive():
            global pending
            while EOM not in pending:
                data = channel.recv(65536)
                if not data:
                    sys.exit("the device closed the channel")
                pending += data
            message, _, pending = pending.partition(EOM)
            return message.decode()

        NC = 'xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"'
        send('<hello %s><capabilities><capability>urn:ietf:params:netconf:base:1.0</capability></capabilities></hello>' % NC)
        hello = receive()
        print("CANDIDATE" if "capability:candidate" in hello else "NO-CANDIDATE", flush=True)
        send('<rpc message-id="1" %s><edit-config><target><candidate/></target><config><system xmlns="urn:example:devicesim"><host-name>paramiko</host-name></system></config></edit-config></rpc>' % NC)
        assert "<ok" in receive()
        send('<rpc message-id="2" %s><commit/></rpc>' % NC)
        assert "<ok" in receive()
        # OpenSSH-style keepalive: the device must answer it (REQUEST_FAILURE is an answer), or this waits forever.
        transport.global_request("keepalive@openssh.com", wait=True)
        print("KEEPALIVE-ANSWERED", flush=True)
        send('<rpc message-id="3" %s><get-config><source><running/></source></get-config></rpc>' % NC)
        print(receive().replace("\n", ""), flush=True)
        send('<rpc message-id="4" %s><close-session/></rpc>' % NC)
        receive()
        transport.close()
        """;

    public void Dispose()
    {
        _fleet.Dispose();
        _guard.Dispose();
    }
}
