using System.Net;
using System.Net.Sockets;

namespace Onboarding.Ssh.Tests;

/// <summary>Two connected TCP loopback streams: real kernel buffers, so back-pressure behaves as in production.</summary>
internal static class LoopbackPair
{
    public static async Task<(NetworkStream Client, NetworkStream Server)> CreateAsync()
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
}
