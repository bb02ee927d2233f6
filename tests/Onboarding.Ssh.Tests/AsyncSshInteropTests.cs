using System.Net;
using System.Net.Sockets;

namespace Onboarding.Ssh.Tests;

/// <summary>
/// Our server against AsyncSSH (Debian's python3-asyncssh), a client that answers our ext-info-s with its own
/// SSH_MSG_EXT_INFO (global-requests-ok) right after its first NEWKEYS, as RFC 8308 §2.4 allows.
/// </summary>
[Trait("Category", "Interop")]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class AsyncSshInteropTests
{
    [RequiresPythonModuleFact("asyncssh")]
    public async Task AsyncSsh_client_that_sends_ext_info_runs_a_command_on_our_server()
    {
        var hostKey = SessionPair.HostKeyFor(SshAlgorithms.Ed25519);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var serverTask = Task.Run(async () =>
        {
            var socket = await listener.AcceptSocketAsync();
            var session = await SshServerSession.AcceptAsync(new NetworkStream(socket, true), SessionPair.ServerOptions(hostKey));
            await session.Completion.WaitAsync(TimeSpan.FromSeconds(30));
            await session.DisposeAsync();
            return session.UserName;
        });
        // Debug level 2 makes AsyncSSH log "Sending extension info": the proof that this client did send EXT_INFO.
        const string script = """
            import asyncio, logging, sys, asyncssh
            logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
            asyncssh.set_debug_level(2)
            async def main():
                pinned = asyncssh.import_public_key(sys.argv[2])
                async with asyncssh.connect('127.0.0.1', int(sys.argv[1]), username='alice', password='secret',
                                            client_keys=None, agent_path=None, known_hosts=([pinned], [], [])) as conn:
                    result = await conn.run('hello', input='world')
                    print(result.stdout)
                    print(result.exit_status)
            asyncio.run(main())
            """;
        try
        {
            var (code, stdout, stderr) = await Task.Run(() => ProcessRunner.Run(ProcessRunner.Python!, "-c", script,
                port.ToString(System.Globalization.CultureInfo.InvariantCulture), hostKey.PublicKey.ToAuthorizedKeysLine()));
            Assert.True(code == 0, stderr);
            Assert.Contains("Sending extension info", stderr, StringComparison.Ordinal);
            var lines = stdout.Split('\n');
            Assert.Equal("hello:world", lines[0]);
            Assert.Equal("42", lines[1]);
            Assert.Equal("alice", await serverTask.WaitAsync(TimeSpan.FromSeconds(30)));
        }
        finally
        {
            listener.Stop();
        }
    }
}
