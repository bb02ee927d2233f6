using System.Net;
using System.Net.Sockets;

namespace Onboarding.IntegrationTests.Infrastructure;

/// <summary>
/// A real TCP relay in front of a server, to take it off the network and back: <see cref="Down"/> stops listening (new
/// connections are refused) and cuts the relayed ones; <see cref="Up"/> listens again on the same port; <see cref="Cut"/>
/// only cuts the relayed connections (a network failure the client recovers from through the relay). The server → client
/// direction can be rewritten on its way (<c>serverToClient</c>, which copies from the server's stream to the client's).
/// </summary>
public sealed class TcpRelay : IAsyncDisposable
{
    private readonly IPEndPoint _target;
    private readonly Func<Stream, Stream, Task> _serverToClient;
    private readonly Lock _gate = new();
    private readonly List<TcpClient> _open = [];
    private TcpListener? _listener;
    private Task _accepting = Task.CompletedTask;

    public TcpRelay(int targetPort, Func<Stream, Stream, Task>? serverToClient = null)
    {
        _target = new IPEndPoint(IPAddress.Loopback, targetPort);
        _serverToClient = serverToClient ?? ((server, client) => server.CopyToAsync(client));
        Port = Listen(0);
    }

    public int Port { get; }

    public void Down()
    {
        lock (_gate)
        {
            _listener?.Stop();
            _listener = null;
        }

        Cut();
    }

    public void Up()
    {
        lock (_gate)
        {
            if (_listener is null)
                Listen(Port);
        }
    }

    public void Cut()
    {
        lock (_gate)
        {
            foreach (var client in _open)
                client.Dispose();
            _open.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        Down();
        try
        {
            await _accepting;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // the listener was stopped
        }
    }

    private int Listen(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        _listener = listener;
        _accepting = AcceptAsync(listener);
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task AcceptAsync(TcpListener listener)
    {
        while (true)
        {
            TcpClient inbound;
            try
            {
                inbound = await listener.AcceptTcpClientAsync();
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = RelayAsync(inbound);
        }
    }

    private async Task RelayAsync(TcpClient inbound)
    {
        var outbound = new TcpClient();
        lock (_gate)
        {
            _open.Add(inbound);
            _open.Add(outbound);
        }

        try
        {
            await outbound.ConnectAsync(_target);
            var a = inbound.GetStream().CopyToAsync(outbound.GetStream());
            var b = _serverToClient(outbound.GetStream(), inbound.GetStream());
            await Task.WhenAny(a, b);
        }
        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException)
        {
            // one side went away
        }
        finally
        {
            inbound.Dispose();
            outbound.Dispose();
            lock (_gate)
            {
                _open.Remove(inbound);
                _open.Remove(outbound);
            }
        }
    }
}
