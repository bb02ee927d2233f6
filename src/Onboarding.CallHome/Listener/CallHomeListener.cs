using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Onboarding.ServiceDefaults.Connections;

namespace Onboarding.CallHome.Listener;

/// <summary>
/// The NMS call-home port (RFC 8071 §3.1, 4334): accepts TCP from devices and serves each connection in its own task
/// (<see cref="CallHomeConnection"/>), so one device's failure or slowness never touches another's.
/// </summary>
/// <remarks>
/// Storms (a site's devices all rebooting after a power cut, or an attack) are refused at accept, before any SSH work,
/// by <see cref="Admission"/>: a per-address connection rate and caps on connections not yet authenticated. A device
/// that has authenticated no longer counts, so live sessions are never affected.
/// </remarks>
internal sealed class CallHomeListener(IOptions<CallHomeOptions> options, IServiceProvider services, TimeProvider clock, ILogger<CallHomeListener> logger)
    : BackgroundService
{
    private readonly TaskCompletionSource<IPEndPoint> _bound = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>This listener's admission counters (refused so far, unauthenticated now).</summary>
    public ConnectionAdmission Admission { get; } = new(() =>
    {
        var s = options.Value.CallHome;
        return new ConnectionAdmissionLimits(s.MaxUnauthenticated, s.MaxUnauthenticatedPerAddress, s.ConnectionsPerAddressPerSecond, s.ConnectionBurstPerAddress);
    }, clock);

    public override void Dispose()
    {
        Admission.Dispose();
        base.Dispose();
    }

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

            // Decided before the next accept, so the counts are exact; a refused peer costs one accept and one close.
            var address = (socket.RemoteEndPoint as IPEndPoint)?.Address ?? IPAddress.None;
            var admission = Admission.TryAdmit(address);
            if (admission.Slot is not { } slot)
            {
                Refuse(socket, address, admission);
                continue;
            }

            var connection = ActivatorUtilities.CreateInstance<CallHomeConnection>(services, socket, slot);
            _ = Task.Run(() => connection.RunAsync(stoppingToken), CancellationToken.None);
        }
    }

    private void Refuse(Socket socket, IPAddress address, ConnectionAdmissionDecision admission)
    {
        if (admission.LogNow)
        {
            var settings = options.Value.CallHome;
            logger.LogWarning("Call home from {ClientAddress} refused at accept: {Refusal} ({Unauthenticated} of at most {MaxUnauthenticated} unauthenticated in total, " +
                "{FromAddress} of at most {MaxUnauthenticatedPerAddress} from this address, at most {ConnectionsPerAddressPerSecond}/s burst {ConnectionBurstPerAddress} per address); " +
                "{Refused} refused since the last such line, {RefusedTotal} since start",
                address, admission.Refusal, admission.Unauthenticated, settings.MaxUnauthenticated, admission.FromAddress, settings.MaxUnauthenticatedPerAddress,
                settings.ConnectionsPerAddressPerSecond, settings.ConnectionBurstPerAddress, admission.RefusedSinceLastLog, Admission.Refused);
        }

        try
        {
            // Reset rather than a graceful close: nothing was said, and the refused peer leaves no TIME_WAIT behind here.
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
            // already reset by the peer
        }

        socket.Dispose();
    }
}
