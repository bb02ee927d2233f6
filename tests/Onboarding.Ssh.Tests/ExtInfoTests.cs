using Onboarding.Ssh.Auth;
using Onboarding.Ssh.Keys;
using Onboarding.Ssh.Transport;
using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.Tests;

/// <summary>RFC 8308 §2.4: where each role may send SSH_MSG_EXT_INFO, and that it is refused anywhere else.</summary>
public class ExtInfoTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static byte[] ExtInfo(params (string Name, string Value)[] extensions)
    {
        using var w = new SshWriter();
        new ExtInfoMessage(extensions.ToDictionary(e => e.Name, e => e.Value)).Write(w);
        return w.ToArray();
    }

    private static async Task<(SshTransport Client, SshTransport Server)> TransportsAsync(SshHostKey key, bool serverOffersExtInfo = true)
    {
        var (c, s) = await LoopbackPair.CreateAsync();
        var serverSettings = TransportPairTests.Server(key, SshAlgorithms.Curve25519Sha256, SshAlgorithms.Aes128Gcm);
        var client = new SshTransport(c, TransportPairTests.Client(SshAlgorithms.Curve25519Sha256, SshAlgorithms.Aes128Gcm));
        var server = new SshTransport(s, serverSettings with { OfferExtInfo = serverOffersExtInfo });
        await Task.WhenAll(client.StartAsync(default), server.StartAsync(default)).WaitAsync(Timeout);
        return (client, server);
    }

    [Fact]
    public async Task Client_that_sends_ext_info_after_its_first_newkeys_runs_a_command()
    {
        // As AsyncSSH does: global-requests-ok, plus an extension nobody knows, which must be ignored.
        var clientOptions = SessionPair.ClientOptions();
        clientOptions = new SshClientOptions
        {
            UserName = clientOptions.UserName,
            Password = clientOptions.Password,
            HostKeyVerifier = clientOptions.HostKeyVerifier,
            ExtInfo = new Dictionary<string, string> { ["global-requests-ok"] = "", ["unknown-extension@example.com"] = "\u0001\u0002" },
        };
        var (client, server) = await SessionPair.ConnectAsync(SessionPair.ServerOptions(SessionPair.HostKeyFor(SshAlgorithms.Ed25519)), clientOptions);
        await using (client)
        await using (server)
        {
            var (output, status) = await SessionPair.ExecAsync(client, "hello", "world");
            Assert.Equal("hello:world", output);
            Assert.Equal(42u, status);
            Assert.Equal("alice", server.UserName);
        }
    }

    [Fact]
    public async Task Server_accepts_ext_info_as_the_first_packet_after_newkeys()
    {
        using var key = SshHostKey.GenerateEd25519();
        var (client, server) = await TransportsAsync(key);
        await using (client)
        await using (server)
        {
            await client.SendAsync(ExtInfo(("no-flow-control", "p"), ("unknown@example.com", "x")), default);
            await client.SendAsync(new byte[] { 50, 1 }, default);
            Assert.Equal(new byte[] { 50, 1 }, await server.ReceiveAsync(default).AsTask().WaitAsync(Timeout));
        }
    }

    [Fact]
    public async Task Server_refuses_ext_info_that_is_not_the_first_packet_after_newkeys()
    {
        using var key = SshHostKey.GenerateEd25519();
        var (client, server) = await TransportsAsync(key);
        await using (client)
        await using (server)
        {
            await client.SendAsync(new byte[] { 50, 1 }, default);
            await client.SendAsync(ExtInfo(("no-flow-control", "p")), default);
            Assert.Equal(new byte[] { 50, 1 }, await server.ReceiveAsync(default).AsTask().WaitAsync(Timeout));
            var error = await Assert.ThrowsAsync<SshProtocolException>(() => server.ReceiveAsync(default).AsTask().WaitAsync(Timeout));
            Assert.Equal(SshDisconnectReason.ProtocolError, error.Reason);
            Assert.Contains("EXT_INFO", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Server_that_did_not_announce_ext_info_s_refuses_a_client_ext_info()
    {
        using var key = SshHostKey.GenerateEd25519();
        var (client, server) = await TransportsAsync(key, serverOffersExtInfo: false);
        await using (client)
        await using (server)
        {
            await client.SendAsync(ExtInfo(("no-flow-control", "p")), default);
            var error = await Assert.ThrowsAsync<SshProtocolException>(() => server.ReceiveAsync(default).AsTask().WaitAsync(Timeout));
            Assert.Contains("EXT_INFO", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Client_accepts_a_second_ext_info_just_before_userauth_success()
    {
        using var key = SshHostKey.GenerateEd25519();
        var (client, server) = await TransportsAsync(key);
        await using (client)
        await using (server)
        {
            // The server's first EXT_INFO (after NEWKEYS) announced the full list; this one replaces it.
            await server.SendAsync(ExtInfo((ExtInfoMessage.ServerSigAlgs, SshAlgorithms.Ed25519)), default);
            await server.SendAsync(new byte[] { UserAuthSuccessMessage.Number }, default);
            Assert.Equal(new byte[] { UserAuthSuccessMessage.Number }, await client.ReceiveAsync(default).AsTask().WaitAsync(Timeout));
            Assert.Equal([SshAlgorithms.Ed25519], client.ServerSigAlgs);
        }
    }

    [Fact]
    public async Task Client_refuses_ext_info_that_is_not_followed_by_userauth_success()
    {
        using var key = SshHostKey.GenerateEd25519();
        var (client, server) = await TransportsAsync(key);
        await using (client)
        await using (server)
        {
            await server.SendAsync(ExtInfo((ExtInfoMessage.ServerSigAlgs, SshAlgorithms.Ed25519)), default);
            await server.SendAsync(new byte[] { UserAuthFailureMessage.Number, 0, 0, 0, 0, 0 }, default);
            var error = await Assert.ThrowsAsync<SshProtocolException>(() => client.ReceiveAsync(default).AsTask().WaitAsync(Timeout));
            Assert.Contains("EXT_INFO", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Client_refuses_ext_info_after_userauth_success()
    {
        using var key = SshHostKey.GenerateEd25519();
        var (client, server) = await TransportsAsync(key);
        await using (client)
        await using (server)
        {
            await server.SendAsync(new byte[] { UserAuthSuccessMessage.Number }, default);
            await server.SendAsync(ExtInfo((ExtInfoMessage.ServerSigAlgs, SshAlgorithms.Ed25519)), default);
            Assert.Equal(new byte[] { UserAuthSuccessMessage.Number }, await client.ReceiveAsync(default).AsTask().WaitAsync(Timeout));
            var error = await Assert.ThrowsAsync<SshProtocolException>(() => client.ReceiveAsync(default).AsTask().WaitAsync(Timeout));
            Assert.Contains("EXT_INFO", error.Message, StringComparison.Ordinal);
        }
    }
}
