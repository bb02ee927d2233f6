using Microsoft.Extensions.Logging.Abstractions;
using Onboarding.Bench.Harness;
using Onboarding.Sftp;
using Onboarding.Ssh;

namespace Onboarding.LoadTest;

/// <summary>Our SFTP over our SSH on loopback: the server side's subsystem handler and the client side's session.</summary>
internal sealed class OurSftp : IAsyncDisposable
{
    private readonly SshClientSession _ssh;

    private OurSftp(SshClientSession ssh, SftpClient client)
    {
        _ssh = ssh;
        Client = client;
    }

    public SftpClient Client { get; }

    /// <summary>Connects to <paramref name="port"/>, opens the sftp subsystem and completes the SFTP handshake.</summary>
    public static async Task<OurSftp> ConnectAsync(int port, SshClientOptions options, CancellationToken cancellationToken)
    {
        var stream = await Loopback.ConnectAsync(port, cancellationToken);
        var ssh = await SshClientSession.ConnectAsync(stream, options, cancellationToken);
        try
        {
            var channel = await ssh.OpenSessionAsync(cancellationToken);
            if (!await channel.RequestSubsystemAsync("sftp", cancellationToken))
                throw new InvalidOperationException("sftp subsystem refused");
            var client = new SftpClient(channel.AsStream());
            await client.ConnectAsync(cancellationToken);
            return new OurSftp(ssh, client);
        }
        catch
        {
            await ssh.DisposeAsync();
            throw;
        }
    }

    /// <summary>A channel handler that serves the sftp subsystem with <paramref name="handler"/>, then exit-status 0 and close.</summary>
    public static Func<SshChannelRequest, CancellationToken, ValueTask<bool>> Subsystem(ISftpHandler handler) => (request, cancellationToken) =>
    {
        if (request.RequestType != "subsystem" || request.Subsystem != "sftp")
            return ValueTask.FromResult(false);
        _ = Task.Run(async () =>
        {
            await using var stream = request.Channel.AsStream();
            await SftpServer.RunAsync(stream, handler, SftpServerOptions.Default, NullLogger.Instance, CancellationToken.None);
            await request.Channel.SendExitStatusAsync(0);
            await request.Channel.CloseAsync();
        }, CancellationToken.None);
        return ValueTask.FromResult(true);
    };

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await _ssh.DisposeAsync();
    }
}
