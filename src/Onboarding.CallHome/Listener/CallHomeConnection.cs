using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Onboarding.CallHome.Sessions;
using Onboarding.CallHome.Trust;
using Onboarding.Inventory.Contracts;
using Onboarding.Netconf.OutboundSsh;
using Onboarding.NmsBootstrap.Contracts;
using Onboarding.Provisioning.Contracts;
using Onboarding.Ssh;
using Onboarding.Telemetry.Contracts;

namespace Onboarding.CallHome.Listener;

/// <summary>
/// One call-home connection from accept to close: the optional outbound-ssh preamble, SSH as the client over the
/// accepted socket (RFC 8071 §3.1) with the device authenticated in the host-key verifier, the lifecycle step, the
/// session registry, then pre-configuration (<see cref="IPreconfiguration"/>) on the live session. Runs in its own DI
/// scope, with the connection id (and the serial once known) in the log scope.
/// </summary>
internal sealed class CallHomeConnection(
    Socket socket,
    IDisposable unauthenticatedSlot,
    IServiceScopeFactory scopes,
    IOptions<CallHomeOptions> options,
    INmsCallHomeIdentity identity,
    CallHomeSessions sessions,
    CallHomeKeepalive keepalive,
    CallHomeWorkLimit workLimit,
    CallHomeRefusals refusals,
    TimeProvider clock,
    ILogger<CallHomeConnection> logger)
{
    private readonly string _connectionId = Guid.NewGuid().ToString("N")[..12];
    private readonly EndPoint? _remote = socket.RemoteEndPoint;

    private string Source => _remote is IPEndPoint ip ? $"call-home:{ip.Address}:{ip.Port}" : "call-home";

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        using var logScope = logger.BeginScope(new Dictionary<string, object> { ["ConnectionId"] = _connectionId, ["RemoteEndPoint"] = _remote?.ToString() ?? "unknown" });
        try
        {
            await ServeAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host shutdown.
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or SshConnectionLostException)
        {
            logger.LogInformation("Call-home connection {ConnectionId} from {RemoteEndPoint} dropped: {Reason}", _connectionId, _remote, ex.Message);
        }
#pragma warning disable CA1031 // The last line of defence of one connection's task: log it, never take the listener down.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            logger.LogError(ex, "Call-home connection {ConnectionId} from {RemoteEndPoint} failed", _connectionId, _remote);
        }
        finally
        {
            unauthenticatedSlot.Dispose();
            socket.Dispose();
        }
    }

    private async Task ServeAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value.CallHome;
        socket.NoDelay = true;
        var network = new NetworkStream(socket, ownsSocket: false);
        CallHomeStart start;
        try
        {
            start = await CallHomePreamble.ReadAsync(network, settings, stoppingToken);
        }
        catch (CallHomePreambleException ex)
        {
            logger.LogWarning("Call home from {RemoteEndPoint} refused before SSH (connection {ConnectionId}): {Reason}", _remote, _connectionId, ex.Message);
            return;
        }

        if (start.Preamble is { } announced)
        {
            logger.LogInformation("Call home from {RemoteEndPoint}: outbound-ssh preamble, DEVICE-ID {AnnouncedDeviceId}, {Form}",
                _remote, announced.DeviceId, announced.HostKey is null ? "3 lines" : "5 lines with HOST-KEY and HMAC");
        }

        var (session, device) = await HandshakeAsync(network, start, settings, stoppingToken);
        if (session is null || device is null)
            return;

        await using (session)
        {
            using var deviceScope = logger.BeginScope(new Dictionary<string, object> { ["Serial"] = device.SerialNumber, ["DeviceId"] = device.Id.ToString() });
            var live = await sessions.AddAsync(device, session, _remote, _connectionId, stoppingToken);
            using var stopKeepalive = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            // From registration on, pre-configuration included: a long pre-configuration must not hide a dead path.
            var keepalives = keepalive.RunAsync(live, settings, stopKeepalive.Token);
            try
            {
                // The onboarding work gets its own DI scope (database contexts and connections), let go before the
                // session idles: thousands of sessions wait for days with nothing scoped held.
                using (await workLimit.EnterAsync(stoppingToken))
                await using (var work = scopes.CreateAsyncScope())
                {
                    var state = await PreconfigureAsync(work.ServiceProvider, device, session, stoppingToken);
                    if (state == DeviceState.Onboarded)
                        await DeliverTelemetryCredentialAsync(work.ServiceProvider, device with { State = state }, session, stoppingToken);
                }

                live.Seen(clock.GetUtcNow());
                // The session stays for later work (the sessions API, re-configuration) until the device or we close it
                // (a replacing call, a DELETE, or the keepalive finding it half-open).
                await session.Completion.WaitAsync(stoppingToken);
                logger.LogInformation("Call-home session of device {Serial} ended", device.SerialNumber);
            }
            finally
            {
                await sessions.RemoveAsync(live);
                await stopKeepalive.CancelAsync();
                await keepalives;
            }
        }
    }

    /// <summary>
    /// SSH as the client over the accepted connection, the device authenticated in the host-key verifier, then the
    /// CalledHome step, in a DI scope of its own that ends with the handshake. Returns the session and the device as it
    /// is now, or nulls when the device was refused (logged, and on a known device's timeline) or the handshake failed.
    /// </summary>
    private async Task<(SshClientSession? Session, DeviceIdentity? Device)> HandshakeAsync(NetworkStream network, CallHomeStart start,
        CallHomeListenerOptions settings, CancellationToken stoppingToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var authentication = scope.ServiceProvider.GetRequiredService<CallHomeAuthentication>();
        var lifecycle = scope.ServiceProvider.GetRequiredService<IDeviceLifecycle>();
        CallHomeDecision? decision = null;
        var clientOptions = new SshClientOptions
        {
            UserName = identity.UserName,
            ClientKey = identity.ClientKey,
            AuthenticationTimeout = settings.HandshakeTimeout,
            HostKeyVerifier = async (context, ct) =>
            {
                decision = await authentication.AuthenticateAsync(context, start.Preamble, ct);
                if (decision.Refusal is { } refusal)
                    await refusals.RecordAsync(lifecycle, decision.Device, refusal, Source, _connectionId, ct);
                return decision.Accepted;
            },
        };

        SshClientSession session;
        try
        {
            session = await SshClientSession.ConnectAsync(new PrefixedStream(start.SshPrefix, network), clientOptions, _remote, stoppingToken);
        }
        catch (SshProtocolException ex) when (decision is { Accepted: false })
        {
            // Refused in the verifier: already logged and, for a known device, on its timeline.
            logger.LogDebug("Call-home connection {ConnectionId} closed after the refusal ({DisconnectReason})", _connectionId, ex.Reason);
            return (null, null);
        }
        catch (SshAuthenticationException ex) when (decision is { Accepted: true, Device: { } refused })
        {
            // The device is trusted, but it did not let the NMS log in: its call-home configuration lacks the NMS key or user.
            await refusals.RecordAsync(lifecycle, refused, new CallHomeRefusal("nms-login-refused",
                $"The device did not accept the NMS's login as '{identity.UserName}' with the NMS client key: {ex.Message}"), Source, _connectionId, stoppingToken);
            return (null, null);
        }
        catch (Exception ex) when (ex is SshProtocolException or SshAuthenticationException)
        {
            logger.LogWarning("Call home from {RemoteEndPoint} failed in the SSH handshake (connection {ConnectionId}): {Reason}", _remote, _connectionId, ex.Message);
            return (null, null);
        }

        // Authenticated (and trusted): no longer counts against the listener's unauthenticated limits.
        unauthenticatedSlot.Dispose();
        var trusted = decision!.Device!;
        DeviceIdentity? device;
        try
        {
            device = await RecordCalledHomeAsync(lifecycle, trusted, decision.IdentifiedBy!, stoppingToken);
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }

        if (device is null)
        {
            await session.DisposeAsync();
            return (null, null);
        }

        return (session, device);
    }

    /// <summary>
    /// The lifecycle step: Bookkept or Bootstrapping → CalledHome on the first call home. A device already further on
    /// (CalledHome, Configured, Onboarded) calling again is no transition: it keeps its state and gets its session.
    /// Returns the device as it is now, or null when the lifecycle refuses (e.g. a reprovisioning device must bootstrap first).
    /// </summary>
    private async Task<DeviceIdentity?> RecordCalledHomeAsync(IDeviceLifecycle lifecycle, DeviceIdentity device, string identifiedBy, CancellationToken cancellationToken)
    {
        if (device.State is DeviceState.CalledHome or DeviceState.Configured or DeviceState.Onboarded)
        {
            logger.LogInformation("Device {Serial} ({DeviceId}, {State}) called home again from {RemoteEndPoint}, identified by {IdentifiedBy}",
                device.SerialNumber, device.Id, device.State, _remote, identifiedBy);
            return device;
        }

        try
        {
            var step = await lifecycle.RecordStepAsync(device.Id, new DeviceStep(DeviceState.CalledHome, Source, $"called home, identified by {identifiedBy}"),
                cancellationToken);
            logger.LogInformation("Device {Serial} ({DeviceId}) called home from {RemoteEndPoint}, identified by {IdentifiedBy}: {From} → {To}",
                device.SerialNumber, device.Id, _remote, identifiedBy, step.From, step.To);
            return device with { State = step.To };
        }
        catch (DeviceTransitionRefusedException ex)
        {
            await refusals.RecordAsync(lifecycle, device, new CallHomeRefusal("lifecycle", $"A device in state {ex.From} cannot call home: {ex.Message}"),
                Source, _connectionId, cancellationToken);
            return null;
        }
    }

    /// <summary>Returns the device's state afterwards (as it was when pre-configuration is missing or threw).</summary>
    private async Task<DeviceState> PreconfigureAsync(IServiceProvider scoped, DeviceIdentity device, SshClientSession session, CancellationToken cancellationToken)
    {
        var preconfiguration = scoped.GetService<IPreconfiguration>();
        if (preconfiguration is null)
        {
            logger.LogInformation("No pre-configuration is registered in this host; the session of device {Serial} stays open", device.SerialNumber);
            return device.State;
        }

        try
        {
            var outcome = await preconfiguration.ApplyAsync(device, session, Source, cancellationToken);
            logger.Log(outcome.Succeeded ? LogLevel.Information : LogLevel.Warning,
                "Pre-configuration of device {Serial}: {Succeeded}, now {State}: {Detail}", device.SerialNumber, outcome.Succeeded ? "done" : "failed", outcome.State, outcome.Detail);
            return outcome.State;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // Pre-configuration is another module's code: its failure ends neither the session nor the listener.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            // Not the device's answer (that is an outcome, on its timeline) but the NMS failing, e.g. its database pool
            // exhausted in a burst: an open session would leave the device waiting in CalledHome with nothing to retry.
            // Closing it makes the device dial again (RFC 8071 persistent call home), and the next call applies it anew.
            logger.LogError(ex, "Pre-configuration of device {Serial} threw; closing its session so that it calls home again and is pre-configured then",
                device.SerialNumber);
            await session.DisposeAsync();
            return device.State;
        }
    }

    /// <summary>
    /// After pre-configuration, on the same session: the device's telemetry credential when its customer asked for
    /// delivery at onboarding (README "Telemetry"). The telemetry module decides and records; its failure ends neither
    /// the session nor the listener, and the device stays Onboarded.
    /// </summary>
    private async Task DeliverTelemetryCredentialAsync(IServiceProvider scoped, DeviceIdentity device, SshClientSession session, CancellationToken cancellationToken)
    {
        if (scoped.GetService<ITelemetryCredentialDelivery>() is not { } delivery)
            return;
        try
        {
            var outcome = await delivery.DeliverAsync(device, session, Source, cancellationToken);
            logger.Log(outcome.Result is TelemetryCredentialResult.NotEnabled ? LogLevel.Debug : LogLevel.Information,
                "Telemetry credential of device {Serial}: {Result}", device.SerialNumber, outcome.Result);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // Another module's code: its failure ends neither the session nor the listener.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            logger.LogError(ex, "Telemetry credential delivery to device {Serial} threw", device.SerialNumber);
        }
    }
}
