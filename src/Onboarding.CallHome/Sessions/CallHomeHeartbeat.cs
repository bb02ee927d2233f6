using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Onboarding.CallHome.Sessions;

/// <summary>
/// Keeps this host's part of the session registry true, every <see cref="CallHomeListenerOptions.HeartbeatInterval"/>:
/// <list type="number">
/// <item>the host's heartbeat in <c>call_home.hosts</c> (a host that accepts no call home writes none, it holds no sessions);</item>
/// <item>rows whose write failed are written again, deletes that failed are retried (a database outage drops no live session);</item>
/// <item>LastSeen of all local sessions in one statement, which also tells which rows no longer name this host's
/// connection: the device called home again, through this host or another, and the old session here is closed;</item>
/// <item>hosts whose heartbeat is older than <see cref="CallHomeListenerOptions.HostStaleAfter"/> (killed, partitioned)
/// are deleted with their sessions.</item>
/// </list>
/// </summary>
internal sealed class CallHomeHeartbeat(
    CallHomeRegistry registry,
    CallHomeSessions sessions,
    IOptions<CallHomeOptions> options,
    TimeProvider clock,
    ILogger<CallHomeHeartbeat> logger) : BackgroundService
{
    private volatile bool _announced;

    /// <summary>When the last heartbeat completed (null: none yet), and why the last one failed (null: it did not).</summary>
    public DateTimeOffset? LastBeat { get; private set; }

    public string? LastError { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value.CallHome;
        using var timer = new PeriodicTimer(settings.HeartbeatInterval, clock);
        do
        {
            try
            {
                await BeatAsync(settings, stoppingToken);
                LastBeat = clock.GetUtcNow();
                if (LastError is not null)
                    logger.LogInformation("Call-home session registry reachable again");
                LastError = null;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
            {
                if (LastError is null)
                    logger.LogWarning("Call-home heartbeat failed: {Reason}; live sessions stay up, retrying every {Interval}", ex.Message, settings.HeartbeatInterval);
                LastError = ex.Message;
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>
    /// A clean stop takes this host out of the registry at once (its sessions are closing with it), so no other host
    /// lists them or forwards to it for the staleness interval. Runs after the listener stopped (hosted services stop in
    /// reverse order); a session that ends later deletes a row that is already gone.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (!_announced)
            return;
        try
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bounded.CancelAfter(TimeSpan.FromSeconds(5));
            await registry.RemoveHostAsync(bounded.Token);
            logger.LogInformation("Call-home host {HostId} left the session registry", registry.HostId);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or OperationCanceledException or ObjectDisposedException)
        {
            logger.LogWarning("Call-home host {HostId} could not leave the session registry ({Reason}); the other hosts reap it after {StaleAfter}",
                registry.HostId, ex.Message, options.Value.CallHome.HostStaleAfter);
        }
    }

    /// <summary>One heartbeat (public for tests that must not wait for the timer).</summary>
    public async Task BeatAsync(CallHomeListenerOptions settings, CancellationToken cancellationToken)
    {
        if (settings.Enabled)
        {
            await registry.BeatAsync(forgetPreviousIncarnations: !_announced, cancellationToken);
            if (!_announced)
            {
                logger.LogInformation("Call-home host {HostId} registered (API for forwarded requests: {InternalApiUrl})", registry.HostId,
                    settings.InternalApiUrl ?? "none; Nms:CallHome:InternalApiUrl is not set");
            }

            _announced = true;
            var local = sessions.Snapshot();
            var unregistered = local.Where(s => !s.Registered && !s.Ended).ToList();
            if (unregistered.Count > 0)
                await sessions.RegisterAsync(unregistered, cancellationToken);
            await sessions.RetryDeletesAsync(cancellationToken);
            await FlushAsync([.. local.Where(s => s.Registered && !s.Ended)], cancellationToken);
        }

        foreach (var (hostId, count) in await registry.ReapAsync(settings.HostStaleAfter, cancellationToken))
        {
            logger.LogWarning("Call-home host {StaleHostId} stopped its heartbeat more than {StaleAfter} ago: removed it and its {Sessions} session(s) from the registry",
                hostId, settings.HostStaleAfter, count);
        }
    }

    private async Task FlushAsync(List<LiveCallHome> registered, CancellationToken cancellationToken)
    {
        if (registered.Count == 0)
            return;
        var still = await registry.FlushLastSeenAsync(registered, cancellationToken);
        var lost = registered.Where(s => !still.Contains(s.Device.Id)).ToList();
        if (lost.Count == 0)
            return;

        var rows = await registry.RowsAsync(lost.Select(s => s.Device.Id), cancellationToken);
        foreach (var session in lost)
        {
            if (session.Ended)
                continue;
            if (!rows.TryGetValue(session.Device.Id, out var row))
            {
                // Our row went (reaped while this host could not reach the database) but the session is alive: write it again.
                logger.LogWarning("Call-home session of device {DeviceId} (connection {ConnectionId}) had lost its registry row; registering it again",
                    session.Device.Id, session.ConnectionId);
                session.MarkUnregistered();
                continue;
            }

            // The row names a later session: the device called home again (through another host, or a newer connection here).
            logger.LogInformation("Device {Serial} ({DeviceId}) called home again through host {HostId} (connection {NewConnectionId}): " +
                "closing its previous session here (connection {ConnectionId}, since {Since})",
                session.Device.SerialNumber, session.Device.Id, row.HostId, row.ConnectionId, session.ConnectionId, session.Since);
            session.End();
            await session.Session.DisposeAsync();
        }

        var rewrite = lost.Where(s => !s.Registered && !s.Ended).ToList();
        if (rewrite.Count > 0)
            await sessions.RegisterAsync(rewrite, cancellationToken);
    }
}
