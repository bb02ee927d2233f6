using System.Net;
using System.Net.Sockets;

namespace Onboarding.IntegrationTests.Infrastructure;

/// <summary>
/// A TCP relay that can go silent without closing, like a NAT that dropped its mapping or a cable pulled somewhere
/// along the path: after <see cref="Stall"/> it keeps every connection open but forwards nothing in either direction
/// (bytes read are dropped), so neither end sees a FIN or a reset.
/// </summary>
public sealed class StallingRelay : IAsyncDisposable
{
    private readonly IPEndPoint _target;
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _relays = [];
    private readonly Task _accepting;
    private volatile bool _stalled;

    public StallingRelay(int targetPort)
    {
        _target = new IPEndPoint(IPAddress.Loopback, targetPort);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    /// <summary>From now on nothing crosses the relay, not even a close: each end's connection stays open until the relay is disposed.</summary>
    public void Stall() => _stalled = true;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        Task[] relays;
        lock (_relays)
            relays = [.. _relays];
        await Task.WhenAll(relays);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket inbound;
            try
            {
                inbound = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                return;
            }

            lock (_relays)
                _relays.Add(RelayAsync(inbound));
        }
    }

    private async Task RelayAsync(Socket inbound)
    {
        using var outbound = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using (inbound)
        {
            try
            {
                await outbound.ConnectAsync(_target, _stop.Token);
                await Task.WhenAny(PumpAsync(inbound, outbound), PumpAsync(outbound, inbound));
                // A silent path carries no FIN or reset either: the other end keeps its connection until the relay goes.
                if (_stalled)
                    await Task.Delay(Timeout.Infinite, _stop.Token);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                // one side went away, or the relay is being disposed
            }
        }
    }

    private async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var n = await from.ReceiveAsync(buffer, _stop.Token);
                if (n == 0)
                    return;
                if (!_stalled)
                    await to.SendAsync(buffer.AsMemory(0, n), _stop.Token);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // ended
        }
    }
}
