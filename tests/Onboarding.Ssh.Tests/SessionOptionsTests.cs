using System.Text;

namespace Onboarding.Ssh.Tests;

/// <summary>SshSessionOptions: what both roles share is configured the same way and acts the same in both.</summary>
public class SessionOptionsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Each_role_sends_its_configured_identification_and_algorithm_lists()
    {
        var serverOptions = new SshServerOptions
        {
            HostKeys = [SessionPair.HostKeyFor(SshAlgorithms.Ed25519)],
            PasswordAuthenticator = (r, _) => ValueTask.FromResult(r.Password == "secret"),
            Identification = "SSH-2.0-Device_7.1 vendor",
            Ciphers = [SshAlgorithms.Aes256Ctr],
            Macs = [SshAlgorithms.HmacSha512Etm],
        };
        string? seenByVerifier = null;
        var clientOptions = new SshClientOptions
        {
            UserName = "alice",
            Password = "secret",
            HostKeyVerifier = (ctx, _) => ValueTask.FromResult((seenByVerifier = ctx.ServerVersion) is not null),
            Identification = "SSH-2.0-Nms_2.0",
            KeyExchangeAlgorithms = [SshAlgorithms.Curve25519Sha256Libssh],
        };
        var (client, server) = await SessionPair.ConnectAsync(serverOptions, clientOptions);
        await using (client)
        await using (server)
        {
            Assert.Equal("SSH-2.0-Nms_2.0", server.ClientVersion);
            Assert.Equal("SSH-2.0-Device_7.1 vendor", client.ServerVersion);
            Assert.Equal("SSH-2.0-Device_7.1 vendor", seenByVerifier);
            var algorithms = client.Transport.Algorithms!;
            Assert.Equal(SshAlgorithms.Curve25519Sha256Libssh, algorithms.KeyExchange);
            Assert.Equal(SshAlgorithms.Aes256Ctr, algorithms.CipherClientToServer);
        }
    }

    [Fact]
    public async Task Client_gives_up_on_a_server_that_stalls_the_handshake()
    {
        var (c, s) = await LoopbackPair.CreateAsync();
        // A peer that identifies itself and then says nothing more (no KEXINIT).
        await s.WriteAsync(Encoding.ASCII.GetBytes("SSH-2.0-Stalled\r\n"));
        var options = new SshClientOptions
        {
            UserName = "u",
            HostKeyVerifier = (_, _) => ValueTask.FromResult(true),
            AuthenticationTimeout = TimeSpan.FromMilliseconds(300),
        };
        var error = await Assert.ThrowsAsync<SshAuthenticationException>(() => SshClientSession.ConnectAsync(c, options).WaitAsync(Timeout));
        Assert.Contains("in time", error.Message, StringComparison.Ordinal);
        await s.DisposeAsync();
    }
}
