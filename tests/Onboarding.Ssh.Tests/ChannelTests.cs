using System.Text;
using Onboarding.Ssh.Connection;

namespace Onboarding.Ssh.Tests;

public class ChannelTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static SshServerOptions Options(Func<SshChannelRequest, CancellationToken, ValueTask<bool>> handler, TimeSpan? rekeyInterval = null) => new()
    {
        HostKeys = [SessionPair.HostKeyFor(SshAlgorithms.Ed25519)],
        PasswordAuthenticator = (_, _) => ValueTask.FromResult(true),
        ChannelRequestHandler = handler,
        RekeyInterval = rekeyInterval ?? TimeSpan.FromHours(1),
    };

    [Fact]
    public async Task Work_that_awaits_ReplySent_never_closes_the_channel_before_the_reply()
    {
        // The handler takes its time deciding, while the work it started finishes at once: without the
        // ReplySent gate, exit-status and CLOSE would overtake SSH_MSG_CHANNEL_SUCCESS and ExecAsync would read "refused".
        var options = Options(async (req, ct) =>
        {
            _ = Task.Run(async () =>
            {
                await req.ReplySent;
                await req.Channel.SendExitStatusAsync(0);
                await req.Channel.CloseAsync();
            }, CancellationToken.None);
            await Task.Delay(200, ct);
            return true;
        });
        var (client, server) = await SessionPair.ConnectAsync(options, SessionPair.ClientOptions());
        await using (client)
        await using (server)
        {
            for (var i = 0; i < 3; i++)
            {
                var channel = await client.OpenSessionAsync();
                Assert.True(await channel.ExecAsync("true").WaitAsync(Timeout));
                Assert.Equal(0u, await channel.ExitStatus.WaitAsync(Timeout));
            }
        }
    }

    [Fact]
    public async Task An_exit_status_after_the_peer_closed_the_channel_is_not_sent_and_the_connection_lives_on()
    {
        // The client closes a subsystem channel while the server's subsystem is still running (the NMS giving up on a
        // device that lacks a capability). The subsystem then ends and reports its exit status: after both CLOSEs the
        // client has freed the channel, and a request for it would be a protocol error that ends the connection.
        var closedByClient = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var exitStatusSent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = Options((req, ct) =>
        {
            if (req.Subsystem != "slow")
                return SessionPair.EchoHandler(req, ct);
            _ = Task.Run(async () =>
            {
                await req.ReplySent;
                await req.Channel.Completion.WaitAsync(Timeout);
                closedByClient.TrySetResult();
                await req.Channel.SendExitStatusAsync(0);
                await req.Channel.CloseAsync();
                exitStatusSent.TrySetResult();
            }, CancellationToken.None);
            return ValueTask.FromResult(true);
        });
        var (client, server) = await SessionPair.ConnectAsync(options, SessionPair.ClientOptions());
        await using (client)
        await using (server)
        {
            var channel = await client.OpenSessionAsync();
            Assert.True(await channel.RequestSubsystemAsync("slow").WaitAsync(Timeout));
            await channel.CloseAsync().WaitAsync(Timeout);
            await closedByClient.Task.WaitAsync(Timeout);
            await exitStatusSent.Task.WaitAsync(Timeout);

            // The connection still works: a new channel runs a command to the end.
            var (output, status) = await SessionPair.ExecAsync(client, "echo", "still here").WaitAsync(Timeout);
            Assert.Equal(("echo:still here", 42u), (output, status));
            Assert.False(client.Completion.IsCompleted);
        }
    }

    [Fact]
    public async Task A_request_whose_channel_closed_while_the_handler_decided_gets_no_reply_and_the_connection_lives_on()
    {
        // The client gives up on a request (closes the channel) while the server's handler is still deciding: a
        // SUCCESS after both CLOSEs would name a channel the client has freed.
        var decided = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = Options(async (req, ct) =>
        {
            if (req.Subsystem != "slow")
                return await SessionPair.EchoHandler(req, ct);
            await req.Channel.Completion.WaitAsync(Timeout, ct);
            decided.TrySetResult();
            return true;
        });
        var (client, server) = await SessionPair.ConnectAsync(options, SessionPair.ClientOptions());
        await using (client)
        await using (server)
        {
            var channel = await client.OpenSessionAsync();
            var request = channel.RequestSubsystemAsync("slow");
            await channel.CloseAsync().WaitAsync(Timeout);
            await decided.Task.WaitAsync(Timeout);
            Assert.False(await request.WaitAsync(Timeout)); // closed before an answer: refused

            var (output, status) = await SessionPair.ExecAsync(client, "echo", "still here").WaitAsync(Timeout);
            Assert.Equal(("echo:still here", 42u), (output, status));
            Assert.False(client.Completion.IsCompleted);
        }
    }

    [Fact]
    public async Task Subsystem_requests_reach_the_handler_and_the_channel_works_as_a_stream()
    {
        var options = Options((req, ct) =>
        {
            if (req.RequestType != "subsystem" || req.Subsystem != "echo")
                return ValueTask.FromResult(false);
            _ = Task.Run(async () =>
            {
                await req.ReplySent;
                await using (var stream = req.Channel.AsStream())
                {
                    var buffer = new byte[1024];
                    int n;
                    while ((n = await stream.ReadAsync(buffer)) > 0)
                        await stream.WriteAsync(buffer.AsMemory(0, n));
                }
                await req.Channel.CloseAsync();
            }, CancellationToken.None);
            return ValueTask.FromResult(true);
        });
        var (client, server) = await SessionPair.ConnectAsync(options, SessionPair.ClientOptions());
        await using (client)
        await using (server)
        {
            var refused = await client.OpenSessionAsync();
            Assert.False(await refused.RequestSubsystemAsync("nope"));
            Assert.False(await refused.ExecAsync("ls"));
            await refused.CloseAsync().WaitAsync(Timeout);

            var channel = await client.OpenSessionAsync();
            Assert.True(await channel.RequestSubsystemAsync("echo"));
            var stream = channel.AsStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes("ping"));
            var buffer = new byte[4];
            await stream.ReadExactlyAsync(buffer).AsTask().WaitAsync(Timeout);
            Assert.Equal("ping", Encoding.ASCII.GetString(buffer));
            await stream.DisposeAsync(); // EOF
            Assert.Equal(0, await stream.ReadAsync(buffer).AsTask().WaitAsync(Timeout));
            await channel.Completion.WaitAsync(Timeout);
            Assert.Null(await channel.ExitStatus);
            await Assert.ThrowsAsync<IOException>(() => channel.WriteAsync(new byte[1]));
        }
    }

    [Fact]
    public async Task A_throwing_or_slow_handler_refuses_or_delays_without_stalling_the_connection()
    {
        var options = Options(async (req, ct) =>
        {
            if (req.Command == "throw")
                throw new InvalidOperationException("application bug");
            // Waiting for channel data inside the handler must not deadlock the read loop.
            var buffer = new byte[5];
            await req.Channel.AsStream().ReadExactlyAsync(buffer, ct);
            _ = Task.Run(async () =>
            {
                await req.ReplySent;
                await req.Channel.WriteAsync(buffer);
                await req.Channel.SendExitStatusAsync(0);
                await req.Channel.CloseAsync();
            }, CancellationToken.None);
            return true;
        });
        var (client, server) = await SessionPair.ConnectAsync(options, SessionPair.ClientOptions());
        await using (client)
        await using (server)
        {
            var bad = await client.OpenSessionAsync();
            Assert.False(await bad.ExecAsync("throw").WaitAsync(Timeout));
            var slow = await client.OpenSessionAsync();
            var exec = slow.ExecAsync("slow");
            await slow.WriteAsync(Encoding.ASCII.GetBytes("hello"));
            Assert.True(await exec.WaitAsync(Timeout));
            Assert.Equal("hello", Encoding.ASCII.GetString(await SessionPair.ReadAllAsync(slow).WaitAsync(Timeout)));
        }
    }

    [Fact]
    public async Task Channel_limit_refuses_extra_channels_with_a_typed_error()
    {
        var options = new SshServerOptions
        {
            HostKeys = [SessionPair.HostKeyFor(SshAlgorithms.Ed25519)],
            PasswordAuthenticator = (_, _) => ValueTask.FromResult(true),
            MaxChannels = 1,
        };
        var (client, server) = await SessionPair.ConnectAsync(options, SessionPair.ClientOptions());
        await using (client)
        await using (server)
        {
            var first = await client.OpenSessionAsync();
            var e = await Assert.ThrowsAsync<SshChannelOpenException>(() => client.OpenSessionAsync());
            Assert.Equal(4u, e.ReasonCode); // RFC 4254 §5.1 SSH_OPEN_RESOURCE_SHORTAGE
            await first.CloseAsync().WaitAsync(Timeout);
            var again = await client.OpenSessionAsync();
            Assert.False(await again.ExecAsync("no handler"));
        }
    }

    [Fact]
    public async Task Closing_the_client_ends_the_server_session_and_its_channels()
    {
        SshChannel? serverChannel = null;
        var options = Options((req, ct) =>
        {
            serverChannel = req.Channel;
            return ValueTask.FromResult(true);
        });
        var (client, server) = await SessionPair.ConnectAsync(options, SessionPair.ClientOptions());
        await using (server)
        {
            var channel = await client.OpenSessionAsync();
            Assert.True(await channel.ExecAsync("wait"));
            await client.DisposeAsync();
            await server.Completion.WaitAsync(Timeout);
            await serverChannel!.Completion.WaitAsync(Timeout);
            Assert.Equal(0, await serverChannel.ReadAsync(new byte[8]).AsTask().WaitAsync(Timeout));
            await Assert.ThrowsAnyAsync<Exception>(() => client.OpenSessionAsync());
            await client.DisposeAsync(); // disposing twice is harmless
        }
    }

    [Fact]
    public async Task A_hostile_peer_does_not_affect_another_session()
    {
        var options = SessionPair.ServerOptions(SessionPair.HostKeyFor(SshAlgorithms.Ed25519));
        var (client, server) = await SessionPair.ConnectAsync(options, SessionPair.ClientOptions());
        await using (client)
        await using (server)
        {
            var (c, s) = await LoopbackPair.CreateAsync();
            var hostile = SshServerSession.AcceptAsync(s, options);
            await c.WriteAsync(Encoding.ASCII.GetBytes("SSH-2.0-Evil\r\n"));
            await c.WriteAsync(new byte[] { 0, 0, 0, 12, 4, 20, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255 });
            await Assert.ThrowsAsync<SshProtocolException>(() => hostile.WaitAsync(Timeout));
            await c.DisposeAsync();
            var (output, status) = await SessionPair.ExecAsync(client, "still", "alive");
            Assert.Equal("still:alive", output);
            Assert.Equal(42u, status);
        }
    }

    [Fact]
    public async Task Rekey_happens_after_the_configured_interval()
    {
        var options = Options(SessionPair.EchoHandler, TimeSpan.FromMilliseconds(300));
        var (client, server) = await SessionPair.ConnectAsync(options, SessionPair.ClientOptions());
        await using (client)
        await using (server)
        {
            Assert.Equal(1, client.Transport.KeyExchangeCount);
            await Task.Delay(500);
            var (output, _) = await SessionPair.ExecAsync(client, "a", "b");
            Assert.Equal("a:b", output);
            await Task.Delay(500);
            (output, _) = await SessionPair.ExecAsync(client, "c", "d");
            Assert.Equal("c:d", output);
            Assert.True(client.Transport.KeyExchangeCount >= 2, $"{client.Transport.KeyExchangeCount} key exchanges");
        }
    }
}
