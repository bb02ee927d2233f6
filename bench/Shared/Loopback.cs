using System.Net;
using System.Net.Sockets;
using Onboarding.Ssh;
using Onboarding.Ssh.Connection;
using Onboarding.Ssh.Keys;

namespace Onboarding.Bench.Harness;

/// <summary>Loopback TCP plumbing and the server-side channel handlers shared by the benchmarks and the load tool.</summary>
public static class Loopback
{
    public static async Task<(NetworkStream Client, NetworkStream Server)> CreatePairAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var accept = listener.AcceptSocketAsync();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        var server = await accept;
        server.NoDelay = true;
        return (new NetworkStream(client, ownsSocket: true), new NetworkStream(server, ownsSocket: true));
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public static async Task<NetworkStream> ConnectAsync(int port, CancellationToken cancellationToken = default)
    {
        for (var attempt = 0; ; attempt++)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException) when (attempt < 50)
            {
                socket.Dispose();
                await Task.Delay(100, cancellationToken);
            }
        }
    }

    /// <summary>
    /// Server options for the benchmarks: one ed25519 host key, curve25519, every cipher (so the
    /// client's single choice decides), public-key auth for exactly <paramref name="clientKey"/>.
    /// </summary>
    public static SshServerOptions ServerOptions(SshHostKey hostKey, SshHostKey clientKey, Func<SshChannelRequest, CancellationToken, ValueTask<bool>> channelHandler, long rekeyBytes = 1L << 30)
    {
        var fingerprint = clientKey.PublicKey.Fingerprint;
        return new SshServerOptions
        {
            HostKeys = [hostKey],
            Ciphers = SshAlgorithms.AllCiphers,
            KeyExchangeAlgorithms = [SshAlgorithms.Curve25519Sha256],
            PublicKeyAuthenticator = (r, _) => ValueTask.FromResult(r.Key.Fingerprint == fingerprint),
            ChannelRequestHandler = channelHandler,
            MaxChannels = 4,
            RekeyBytes = rekeyBytes,
        };
    }

    public static SshClientOptions ClientOptions(SshHostKey clientKey, string userName, string hostKeyFingerprint, string cipher = SshAlgorithms.Aes128Gcm, long rekeyBytes = 1L << 30) => new()
    {
        UserName = userName,
        ClientKey = clientKey,
        HostKeyVerifier = (context, _) => ValueTask.FromResult(context.HostKey.Fingerprint == hostKeyFingerprint),
        KeyExchangeAlgorithms = [SshAlgorithms.Curve25519Sha256],
        HostKeyAlgorithms = [SshAlgorithms.Ed25519],
        Ciphers = [cipher],
        RekeyBytes = rekeyBytes,
    };

    /// <summary>exec of any command: reads stdin to EOF, counting bytes, then exit-status 0 and close (like `cat &gt; /dev/null`).</summary>
    public static ValueTask<bool> SinkExec(SshChannelRequest request, CancellationToken cancellationToken, Action<int>? onData = null)
    {
        if (request.RequestType != "exec")
            return ValueTask.FromResult(false);
        _ = Task.Run(async () =>
        {
            await request.ReplySent;
            var channel = request.Channel;
            var buffer = new byte[64 * 1024];
            int n;
            try
            {
                while ((n = await channel.ReadAsync(buffer)) > 0)
                    onData?.Invoke(n);
                await channel.SendExitStatusAsync(0);
                await channel.CloseAsync();
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                // The client went away mid-transfer; nothing to report from a sink.
            }
        }, CancellationToken.None);
        return ValueTask.FromResult(true);
    }
}
