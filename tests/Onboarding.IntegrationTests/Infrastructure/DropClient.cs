using System.Net.Sockets;
using System.Text;
using Onboarding.Sftp;
using Onboarding.Ssh;

namespace Onboarding.IntegrationTests.Infrastructure;

/// <summary>Our own SSH client + SFTP client logged in to the drop, pinning the NMS host key fingerprint.</summary>
public sealed class DropClient : IAsyncDisposable
{
    private readonly SshClientSession _ssh;
    private readonly TcpClient _tcp;

    private DropClient(TcpClient tcp, SshClientSession ssh, SftpClient sftp)
    {
        _tcp = tcp;
        _ssh = ssh;
        Sftp = sftp;
    }

    public SftpClient Sftp { get; }

    public static async Task<DropClient> ConnectAsync(int port, string userName, string passphrase, IEnumerable<string> pinnedFingerprints)
    {
        var pins = pinnedFingerprints.ToHashSet(StringComparer.Ordinal);
        var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        var ssh = await SshClientSession.ConnectAsync(tcp.GetStream(), new SshClientOptions
        {
            UserName = userName,
            Password = passphrase,
            HostKeyVerifier = (context, _) => ValueTask.FromResult(pins.Contains(context.HostKey.Fingerprint)),
        });
        var channel = await ssh.OpenSessionAsync();
        if (!await channel.RequestSubsystemAsync("sftp"))
            throw new InvalidOperationException("sftp subsystem refused");
        var sftp = new SftpClient(channel.AsStream());
        await sftp.ConnectAsync();
        return new DropClient(tcp, ssh, sftp);
    }

    public Task UploadAsync(string name, string content) => Sftp.UploadAsync($"/incoming/{name}", new MemoryStream(Encoding.UTF8.GetBytes(content)));

    public async Task<string> ReadAsync(string path)
    {
        using var buffer = new MemoryStream();
        await Sftp.DownloadAsync(path, buffer);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Cuts the TCP connection at once (RST), as a crashed client or a broken network would.</summary>
    public void Cut() => _tcp.Client.Close(0);

    public async ValueTask DisposeAsync()
    {
        await Sftp.DisposeAsync();
        await _ssh.DisposeAsync();
    }
}
