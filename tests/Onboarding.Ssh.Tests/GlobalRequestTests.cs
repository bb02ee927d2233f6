namespace Onboarding.Ssh.Tests;

/// <summary>RFC 4254 §4 global requests from the client role (the call-home keepalive), over an in-memory pair.</summary>
public class GlobalRequestTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Keepalive_is_answered_with_request_failure_which_proves_the_peer_alive()
    {
        var hostKey = SessionPair.HostKeyFor(SshAlgorithms.Ed25519);
        var (client, server) = await SessionPair.ConnectAsync(SessionPair.ServerOptions(hostKey), SessionPair.ClientOptions());
        await using (client)
        await using (server)
        {
            Assert.False(await client.GlobalRequestAsync(SshClientSession.KeepaliveRequestName).WaitAsync(Timeout));
            await client.SendKeepaliveAsync().WaitAsync(Timeout);

            // Replies come in request order (RFC 4254 §4): many outstanding requests from concurrent callers are all answered.
            var many = Enumerable.Range(0, 50).Select(i => Task.Run(() => client.GlobalRequestAsync(i % 2 == 0 ? "keepalive@openssh.com" : "unknown@example.com"))).ToArray();
            Assert.All(await Task.WhenAll(many).WaitAsync(Timeout), Assert.False);

            // Without want-reply nothing comes back, and the session still works afterwards.
            Assert.True(await client.GlobalRequestAsync("no-more-sessions@openssh.com", wantReply: false).WaitAsync(Timeout));
            var channel = await client.OpenSessionAsync().WaitAsync(Timeout);
            Assert.True(await channel.ExecAsync("after-keepalives").WaitAsync(Timeout));
            await channel.SendEofAsync();
            Assert.Equal("after-keepalives:", System.Text.Encoding.UTF8.GetString(await SessionPair.ReadAllAsync(channel).WaitAsync(Timeout)));
        }
    }

    [Fact]
    public async Task Keepalive_on_a_closed_connection_fails_with_connection_lost()
    {
        var hostKey = SessionPair.HostKeyFor(SshAlgorithms.Ed25519);
        var (client, server) = await SessionPair.ConnectAsync(SessionPair.ServerOptions(hostKey), SessionPair.ClientOptions());
        await using (client)
        {
            await server.DisposeAsync();
            try
            {
                await client.Completion.WaitAsync(Timeout);
            }
            catch (SshProtocolException)
            {
                // How the server's disconnect was classified does not matter here, only that the connection ended.
            }

            await Assert.ThrowsAsync<SshConnectionLostException>(() => client.SendKeepaliveAsync().WaitAsync(Timeout));
        }
    }

    [Fact]
    public async Task Empty_request_name_is_rejected()
    {
        var hostKey = SessionPair.HostKeyFor(SshAlgorithms.Ed25519);
        var (client, server) = await SessionPair.ConnectAsync(SessionPair.ServerOptions(hostKey), SessionPair.ClientOptions());
        await using (client)
        await using (server)
        {
            await Assert.ThrowsAsync<ArgumentException>(() => client.GlobalRequestAsync(""));
        }
    }
}
