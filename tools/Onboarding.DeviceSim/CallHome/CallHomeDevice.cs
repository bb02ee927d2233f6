using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Onboarding.DeviceSim.Bootstrap;
using Onboarding.DeviceSim.Telemetry;
using Onboarding.Netconf.Datastore;
using Onboarding.Netconf.OutboundSsh;
using Onboarding.Ssh;
using Onboarding.Ssh.Keys;

namespace Onboarding.DeviceSim.CallHome;

/// <summary>One device's call-home result. <paramref name="Reason"/> is a short category for the summary; null when the NMS configured it.</summary>
internal sealed record CallHomeOutcome(string Serial, string? Reason, string? Detail, int Connections, int Sessions, bool Configured,
    IReadOnlyList<string> Commands, string? HostKey, string? RunningConfiguration, int FaultsInjected, TimeSpan Elapsed)
{
    public bool Ok => Reason is null;
}

/// <summary>Live counts across all devices, for the progress display.</summary>
internal sealed class CallHomeCounters
{
    private int _connected;
    private int _configured;
    private int _finished;
    private int _retries;

    public int Connected => Volatile.Read(ref _connected);
    public int Configured => Volatile.Read(ref _configured);
    public int Finished => Volatile.Read(ref _finished);
    public int Retries => Volatile.Read(ref _retries);

    internal void Connect() => Interlocked.Increment(ref _connected);
    internal void Disconnect() => Interlocked.Decrement(ref _connected);
    internal void Configure() => Interlocked.Increment(ref _configured);
    internal void Finish() => Interlocked.Increment(ref _finished);
    internal void Retry() => Interlocked.Increment(ref _retries);
}

/// <summary>
/// One simulated device calling home (RFC 8071): it dials the NMS, writes the Junos outbound-ssh preamble when that is its
/// style, and is the SSH server on the connection it opened, authorizing only the NMS client key and serving NETCONF
/// from its own datastore (kept across connections). A failed or dropped connection is retried with exponential back-off
/// and jitter (RFC 8071 §4.1: the device re-initiates); it stops once the NMS closed a session in which it configured
/// the device, or, with <see cref="CallHomeSettings.Stay"/>, stays connected until cancelled.
/// </summary>
internal sealed class CallHomeDevice(DeviceIdentity identity, CallHomeSettings settings, CallHomeCounters counters)
{
    private readonly ConcurrentQueue<string> _commands = new();
    private InMemoryDatastore? _datastore;
    private uint _nextSessionId = 1;
    private int _faults;
    private int _firstConfigured;

    /// <summary>The NMS configured the device on some session (set as it happens, not when the session ends).</summary>
    private bool EverConfigured => Volatile.Read(ref _firstConfigured) == 1;

    /// <summary>The device's telemetry side (with <see cref="CallHomeSettings.Telemetry"/>), kept across connections like its datastore.</summary>
    public TelemetryAgent? Telemetry { get; } = settings.Telemetry ? new TelemetryAgent(identity.Serial, settings.TelemetryInterval, settings.TelemetryLog) : null;

    /// <summary>Called after each failed attempt (for tests and logs): the attempt's reason and detail.</summary>
    public Action<string, string>? AttemptFailed { get; init; }

    /// <summary>Called when an SSH session with the NMS is up (the NMS authenticated itself and accepted the device's host key).</summary>
    public Action? SessionEstablished { get; init; }

    /// <summary>Called once, when the NMS first configured the device.</summary>
    public Action? FirstConfigured { get; init; }

    public async Task<CallHomeOutcome> RunAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        int connections = 0, sessions = 0, failures = 0;
        string? hostKey = null;
        try
        {
            var (state, key) = DeviceState.LoadOrCreate(settings.StateDirectory, identity.Serial);
            var target = Resolve(state);
            _datastore = new InMemoryDatastore();
            var presented = PresentedKey(key);
            using (key)
            using (ReferenceEquals(presented, key) ? null : presented)
            {
                hostKey = presented.PublicKey.ToAuthorizedKeysLine();
                while (true)
                {
                    connections++;
                    var attempt = await ConnectOnceAsync(target, key, presented, cancellationToken);
                    if (attempt.Established)
                        sessions++;
                    if (attempt.Configured)
                    {
                        failures = 0;
                        if (!settings.Stay)
                            return Outcome(null, null);
                    }
                    else
                    {
                        failures++;
                        AttemptFailed?.Invoke(attempt.Reason!, attempt.Detail!);
                        if (settings.MaxAttempts > 0 && failures >= settings.MaxAttempts && !EverConfigured)
                            return Outcome(attempt.Reason, $"{attempt.Detail} (gave up after {failures} attempts)");
                    }
                    counters.Retry();
                    await Task.Delay(Backoff(Math.Max(1, failures)), cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // A --stay device stopped while its session is up was configured on that session: it counts as configured.
            return EverConfigured ? Outcome(null, null) : Outcome("cancelled", "stopped before the NMS configured the device");
        }
        catch (Exception e) when (e is CallHomeSetupException or InvalidDataException or FormatException or IOException or CryptographicException or NotSupportedException)
        {
            return Outcome(e is CallHomeSetupException setup ? setup.Reason : "bad-state", e.Message);
        }
        finally
        {
            counters.Finish();
            if (Telemetry is not null)
                await Telemetry.DisposeAsync();
        }

        CallHomeOutcome Outcome(string? reason, string? detail) => new(identity.Serial, reason, detail, connections, sessions, EverConfigured,
            [.. _commands], hostKey, _datastore?.Snapshot(DatastoreName.Running).ToString(), _faults, Stopwatch.GetElapsedTime(started));
    }

    /// <summary>The state file's target with the command line's overrides; what is still missing stops the device.</summary>
    private CallHomeTarget Resolve(DeviceState state)
    {
        var known = state.CallHome;
        var host = settings.NmsHost ?? known?.Host
            ?? throw new CallHomeSetupException("no-target", $"{DeviceState.PathOf(settings.StateDirectory, identity.Serial)} names no NMS (bootstrap first, or give --nms)");
        var port = settings.NmsPort ?? known?.Port ?? CallHomeConfigurationReader.NetconfCallHomePort;
        var clientKey = settings.ClientKey ?? known?.ClientKey
            ?? throw new CallHomeSetupException("no-client-key", "no NMS client key to authorize (bootstrap first, or give --nms-key)");
        try
        {
            SshPublicKey.ParseAuthorizedKeysLine(clientKey);
        }
        catch (Exception e) when (e is FormatException or SshProtocolException)
        {
            throw new CallHomeSetupException("bad-client-key", $"the NMS client key is not an authorized_keys line: {e.Message}");
        }
        return new CallHomeTarget(settings.Style ?? known?.Style ?? CallHomeStyle.Netconf, host, port,
            settings.ClientKey is null ? known?.UserName : null, clientKey, settings.DeviceSecret ?? known?.DeviceSecret);
    }

    /// <summary>The key SSH presents: the state key, the IDevID as an RFC 6187 host key, or (fault) a stranger.</summary>
    private SshHostKey PresentedKey(SshHostKey stateKey)
    {
        if (settings.Fault == CallHomeFault.WrongKey)
            return SshHostKey.GenerateEd25519();
        if (settings.HostKey == HostKeySource.Generated)
            return stateKey;
        var certificate = identity.Certificate;
        using var ecdsa = certificate.GetECDsaPrivateKey();
        using var rsa = ecdsa is null ? certificate.GetRSAPrivateKey() : null;
        var pkcs8 = ecdsa?.ExportPkcs8PrivateKeyPem() ?? rsa?.ExportPkcs8PrivateKeyPem()
            ?? throw new CallHomeSetupException("no-idevid-key", "the IDevID has no private key");
        var key = SshHostKey.ParseOpenSshPrivateKey(pkcs8);
        if (key.PublicKey.RsaBits is > 0 and < 3072)
            throw new CallHomeSetupException("idevid-key-too-weak", $"an RSA-{key.PublicKey.RsaBits} IDevID cannot be a host key here (RSA host keys need 3072 bits): mint with --key P256");
        return SshHostKey.WithCertificateChain(key, [certificate, .. identity.Intermediates]);
    }

    private sealed record Attempt(bool Established, bool Configured, string? Reason, string? Detail);

    private async Task<Attempt> ConnectOnceAsync(CallHomeTarget target, SshHostKey stateKey, SshHostKey presented, CancellationToken cancellationToken)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            connectTimeout.CancelAfter(settings.ConnectTimeout);
            try
            {
                await socket.ConnectAsync(target.Host, target.Port, connectTimeout.Token);
            }
            catch (SocketException e)
            {
                return new Attempt(false, false, "connect-" + Kebab(e.SocketErrorCode.ToString()), $"{target.Host}:{target.Port}: {e.Message}");
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return new Attempt(false, false, "connect-timeout", $"{target.Host}:{target.Port} did not answer within {settings.ConnectTimeout.TotalSeconds:0} s");
            }
        }

        counters.Connect();
        DeviceManagementSession? management = null;
        try
        {
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            if (target.Style == CallHomeStyle.Junos)
                await stream.WriteAsync(Preamble(target, stateKey), cancellationToken);

            management = new DeviceManagementSession(_datastore!, settings, _nextSessionId, _commands,
                () => settings.Fault == CallHomeFault.DropMidConfig && Interlocked.CompareExchange(ref _faults, 1, 0) == 0, Telemetry)
            {
                ConfiguredNow = () =>
                {
                    if (Interlocked.Exchange(ref _firstConfigured, 1) == 0)
                    {
                        counters.Configure();
                        FirstConfigured?.Invoke();
                    }
                },
            };
            var clientKey = SshPublicKey.ParseAuthorizedKeysLine(target.ClientKey!);
            SshServerSession server;
            try
            {
                server = await SshServerSession.AcceptAsync(stream, new SshServerOptions
                {
                    HostKeys = [presented],
                    // Only the NMS client key the onboarding-information named, for the user it named (when it named one).
                    PublicKeyAuthenticator = (request, _) => ValueTask.FromResult(
                        request.Key.Equals(clientKey) && (target.UserName is null || request.UserName == target.UserName)),
                    ChannelRequestHandler = management.HandleChannelRequestAsync,
                }, cancellationToken);
            }
            catch (SshAuthenticationException e)
            {
                return new Attempt(false, false, "nms-auth-failed", e.Message);
            }
            catch (SshConnectionLostException e)
            {
                return e.PeerReason switch
                {
                    SshDisconnectReason.HostKeyNotVerifiable => new Attempt(false, false, "host-key-rejected", "the NMS did not accept the device's host key"),
                    // The NMS gave up on authentication: our refusals of its key (or user) ran out its methods.
                    SshDisconnectReason.NoMoreAuthMethodsAvailable or SshDisconnectReason.AuthCancelledByUser =>
                        new Attempt(false, false, "nms-auth-failed", "the NMS gave up authenticating: the device accepts only the client key (and user) of its onboarding-information"),
                    _ => new Attempt(false, false, "dropped-in-handshake", e.Message),
                };
            }
            catch (SshProtocolException e)
            {
                return new Attempt(false, false, "ssh-" + Kebab(e.Reason.ToString()), e.Message);
            }

            SessionEstablished?.Invoke();
            await using (server)
            using (var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                // The delay only turns cancellation into a task; cancelling its own source ends it with the session.
                // Without --stay, the NMS ending the NETCONF session in which it configured the device ends the run: the
                // device then closes the connection itself (the NMS keeps a persistent call-home connection open).
                var done = settings.Stay ? Task.Delay(Timeout.Infinite, stop.Token) : management.ConfiguredSessionEnded.Task;
                var ended = await Task.WhenAny(server.Completion, management.Dropped.Task, done, Task.Delay(Timeout.Infinite, stop.Token));
                await stop.CancelAsync();
                _nextSessionId = management.NextSessionId;
                cancellationToken.ThrowIfCancellationRequested();
                if (ended == management.ConfiguredSessionEnded.Task)
                    return new Attempt(true, true, null, null);
                if (ended == management.Dropped.Task)
                {
                    // drop-mid-config: the edit is applied, the reply never leaves; the NMS sees the connection reset.
                    socket.LingerState = new LingerOption(true, 0);
                    socket.Close();
                    return new Attempt(true, false, "fault-drop-mid-config", "closed the socket after the first edit-config (--fault drop-mid-config)");
                }
                try
                {
                    await server.Completion;
                }
                catch (Exception e) when (e is SshProtocolException or SshConnectionLostException or IOException)
                {
                    if (!management.Configured)
                        return new Attempt(true, false, "connection-lost", e.Message);
                }
                return management.Configured
                    ? new Attempt(true, true, null, null)
                    : new Attempt(true, false, "closed-unconfigured", "the NMS closed the session without configuring the device");
            }
        }
        catch (IOException e)
        {
            return new Attempt(false, false, "dropped-in-handshake", e.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Whatever else one connection throws ends that connection, not the device or the other devices of the run.
            return new Attempt(false, false, "unexpected-error", $"{e.GetType().Name}: {e.Message}");
        }
        finally
        {
            management?.Dispose();
            counters.Disconnect();
        }
    }

    /// <summary>
    /// Junos outbound-ssh DEVICE-CONN-INFO: 3 lines, or 5 with HOST-KEY and HMAC when the device knows its secret. The
    /// preamble announces the state key (the one pinned at bootstrap-complete), whatever SSH then presents.
    /// </summary>
    private byte[] Preamble(CallHomeTarget target, SshHostKey stateKey) => target.DeviceSecret is { Length: > 0 } secret
        ? OutboundSshPreamble.WithHostKey(identity.Serial, stateKey.PublicKey.ToAuthorizedKeysLine(), Encoding.UTF8.GetBytes(secret)).Encode()
        : new OutboundSshPreamble(identity.Serial).Encode();

    /// <summary>½–1 × BaseDelay·2^(n−1), capped at MaxDelay: spread out, so N devices do not dial again in lockstep.</summary>
    private TimeSpan Backoff(int failures)
    {
        var exponential = settings.BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(failures - 1, 30));
        var capped = Math.Min(exponential, settings.MaxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.5 + (Random.Shared.NextDouble() * 0.5)));
    }

    private static string Kebab(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) ? (i == 0 ? "" : "-") + char.ToLowerInvariant(c) : c.ToString()));
}

/// <summary>The device cannot call home at all (no target, no key): retrying would not help.</summary>
internal sealed class CallHomeSetupException(string reason, string message) : Exception(message)
{
    public string Reason { get; } = reason;
}
