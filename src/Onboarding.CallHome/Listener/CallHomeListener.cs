using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Onboarding.CallHome.Listener;

/// <summary>
/// The NMS call-home port (RFC 8071 §3.1, 4334): accepts TCP from devices and serves each connection in its own task
/// (<see cref="CallHomeConnection"/>), so one device's failure or slowness never touches another's.
/// </summary>
internal sealed class CallHomeListener(IOptions<CallHomeOptions> options, IServiceProvider services, ILogger<CallHomeListener> logger) : BackgroundService
{
    private readonly TaskCompletionSource<IPEndPoint> _bound = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Where the listener is bound (useful with port 0).</summary>
    public Task<IPEndPoint> BoundEndpoint => _bound.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.CallHome.Enabled)
        {
            logger.LogInformation("Call home disabled (Nms:CallHome:Enabled=false)");
            return;
        }

        using var listener = new TcpListener(settings.CallHome.ParsedListenAddress(), settings.BindPort);
        listener.Start(backlog: 512);
        var endpoint = (IPEndPoint)listener.LocalEndpoint;
        _bound.TrySetResult(endpoint);
        logger.LogInformation("Call home (RFC 8071, Juniper outbound-ssh) listening on {Endpoint}", endpoint);

        while (!stoppingToken.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptSocketAsync(stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (SocketException ex)
            {
                // E.g. the peer reset before accept completed: nothing to serve, keep listening.
                logger.LogInformation("Call home accept failed: {Reason}", ex.Message);
                continue;
            }

            var connection = ActivatorUtilities.CreateInstance<CallHomeConnection>(services, socket);
            _ = Task.Run(() => connection.RunAsync(stoppingToken), CancellationToken.None);
        }
    }
}
