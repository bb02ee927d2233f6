using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Onboarding.Netconf.Datastore;
using Onboarding.Ssh;
using Onboarding.Ssh.Keys;

namespace Onboarding.Netconf.Tests;

/// <summary>
/// Interop with a real NETCONF client: Debian's python3-ncclient (over paramiko) against our SSH server with a
/// "netconf" subsystem served by <see cref="NetconfServerSession"/> and the in-memory datastore. ncclient offers
/// base:1.1, so this exercises chunked framing from the other side.
/// </summary>
public class NcclientInteropTests
{
    private const string Script = """
        import sys
        from ncclient import manager
        from ncclient.operations import RPCError
        NS = 'xmlns="http://example.com/schema/1.2/config"'
        with manager.connect(host='127.0.0.1', port=int(sys.argv[1]), username='nms', password='pw', hostkey_verify=False,
                             look_for_keys=False, allow_agent=False, timeout=30) as m:
            print('session', m.session_id)
            print('candidate', ':candidate' in m.server_capabilities)
            m.edit_config(target='candidate', config='<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><top ' + NS +
                          '><interface><name>ge-0/0/1</name><mtu>9000</mtu></interface></top></config>')
            m.commit()
            r = m.get_config(source='running', filter=('subtree', '<top ' + NS + '><interface><name>ge-0/0/1</name><mtu/></interface></top>'))
            print('mtu', r.data.find('.//{http://example.com/schema/1.2/config}mtu').text)
            try:
                m.edit_config(target='candidate', config='<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" ' +
                              'xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0"><top ' + NS +
                              '><interface nc:operation="create"><name>ge-0/0/1</name></interface></top></config>')
                print('no error')
            except RPCError as e:
                print('rpc-error', e.tag, e.path)
        """;

    [Fact]
    public async Task Ncclient_configures_our_netconf_server_through_candidate_and_commit()
    {
        Assert.True(File.Exists("/usr/bin/python3"), "needs Debian's python3 with python3-ncclient (test.sh installs it)");
        using var hostKey = SshHostKey.GenerateEd25519();
        var store = new InMemoryDatastore(DatastoreTests.Schema);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var device = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync();
            var session = await SshServerSession.AcceptAsync(new NetworkStream(socket, ownsSocket: false), new SshServerOptions
            {
                HostKeys = [hostKey],
                PasswordAuthenticator = (r, _) => ValueTask.FromResult(r.UserName == "nms" && r.Password == "pw"),
                ChannelRequestHandler = (request, ct) =>
                {
                    if (request.RequestType != "subsystem" || request.Subsystem != "netconf")
                        return ValueTask.FromResult(false);
                    _ = Task.Run(async () =>
                    {
                        await request.ReplySent;
                        await using var channel = request.Channel.AsStream();
                        await NetconfServerSession.RunAsync(channel, new NetconfServerOptions { SessionId = 31 }, store.HandleRpcAsync);
                        await request.Channel.CloseAsync();
                    }, CancellationToken.None);
                    return ValueTask.FromResult(true);
                },
            });
            await session.Completion.WaitAsync(TimeSpan.FromSeconds(60));
            await session.DisposeAsync();
        });

        var (code, stdout, stderr) = await RunAsync("/usr/bin/python3", "-c", Script, port.ToString(CultureInfo.InvariantCulture));
        Assert.True(code == 0, $"ncclient failed ({code}): {stderr}\n{stdout}");
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("session 31", lines[0]);
        Assert.Equal("candidate True", lines[1]);
        Assert.Equal("mtu 9000", lines[2]);
        Assert.Equal("rpc-error data-exists /top/interface", lines[3]);
        Assert.Equal("9000", store.Snapshot(DatastoreName.Running).Descendants(DatastoreTests.T + "mtu").Single().Value);
        await device.WaitAsync(TimeSpan.FromSeconds(60));
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
