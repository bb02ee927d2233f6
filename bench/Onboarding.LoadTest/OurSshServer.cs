using System.Net;
using System.Net.Sockets;
using Onboarding.Ssh;

namespace Onboarding.LoadTest;

/// <summary>Our SshServerSession behind a loopback TcpListener, in this process: one task per connection.</summary>
internal sealed class OurSshServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private readonly Func<SshServerSession, Task> _onSession;
    private long _failures;

    public OurSshServer(SshServerOptions options, Func<SshServerSession, Task>? onSession = null)
    {
        _onSession = onSession ?? (s => s.Completion);
        _listener.Start(512);
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = AcceptLoopAsync(options);
    }

    public int Port { get; }

    public long Failures => Interlocked.Read(ref _failures);

    private async Task AcceptLoopAsync(SshServerOptions options)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            socket.NoDelay = true;
            _ = Task.Run(() => ServeAsync(socket, options));
        }
    }

    private async Task ServeAsync(Socket socket, SshServerOptions options)
    {
        try
        {
            await using var session = await SshServerSession.AcceptAsync(new NetworkStream(socket, ownsSocket: true), options, _stop.Token);
            await _onSession(session);
        }
#pragma warning disable CA1031 // A failed connection is counted and reported, never allowed to stop the benchmark server.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            if (!_stop.IsCancellationRequested && Interlocked.Increment(ref _failures) == 1)
                await Console.Error.WriteLineAsync("our server, first failed session: " + ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _acceptLoop;
        _stop.Dispose();
    }
}
