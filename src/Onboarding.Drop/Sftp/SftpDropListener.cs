using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Onboarding.Accounts.Contracts;
using Onboarding.HostKeys.Contracts;
using Onboarding.ServiceDefaults.Connections;
using Onboarding.Sftp;
using Onboarding.Ssh;

namespace Onboarding.Drop.Sftp;

/// <summary>
/// The NMS SFTP endpoint: accepts TCP, runs our SSH server with the NMS host keys, authenticates manufacturers
/// by their issued username and passphrase, and serves the "sftp" subsystem over their virtual drop.
/// One connection's failure never touches another's.
/// </summary>
internal sealed class SftpDropListener(
    IOptions<DropOptions> options,
    INmsHostKeys hostKeys,
    IServiceScopeFactory scopes,
    LoginThrottle throttle,
    RecentUploads recentUploads,
    UploadCommitter committer,
    TimeProvider clock,
    ILoggerFactory loggers) : BackgroundService
{
    // Our usual identification string (the SSH server's default), then the reason.
    private static readonly byte[] TooManyUnauthenticated =
        EarlyDisconnect.Build(new SshServerOptions { HostKeys = [] }.Identification, "too many unauthenticated connections");

    private readonly ILogger _logger = loggers.CreateLogger<SftpDropListener>();

    // Connections not logged in yet, like OpenSSH's MaxStartups: the drop uses the shared admission without a rate
    // limit, and logs every refusal (a manufacturer's uploads are few; a flood shows in the count).
    private readonly ConnectionAdmission _unauthenticated = new(() =>
        new ConnectionAdmissionLimits(options.Value.MaxUnauthenticated, options.Value.MaxUnauthenticatedPerAddress), clock);
    private readonly TaskCompletionSource<IPEndPoint> _bound = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Where the listener is bound (useful with port 0).</summary>
    public Task<IPEndPoint> BoundEndpoint => _bound.Task;

    public override void Dispose()
    {
        _unauthenticated.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            _logger.LogInformation("SFTP drop disabled (Drop:Enabled=false)");
            return;
        }

        using var listener = new TcpListener(IPAddress.Parse(settings.ListenAddress), settings.Port);
        listener.Start(backlog: 512);
        var endpoint = (IPEndPoint)listener.LocalEndpoint;
        _bound.TrySetResult(endpoint);
        _logger.LogInformation("SFTP drop listening on {Endpoint}", endpoint);

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

            _ = ServeAsync(socket, stoppingToken);
        }
    }

    private async Task ServeAsync(Socket socket, CancellationToken stoppingToken)
    {
        var connectionId = Guid.NewGuid().ToString("N")[..12];
        var address = (socket.RemoteEndPoint as IPEndPoint)?.Address.ToString() ?? "unknown";
        using var scope = _logger.BeginScope(new Dictionary<string, object> { ["ConnectionId"] = connectionId, ["ClientAddress"] = address });
        var settings = options.Value;
        // Taken before the first await: the accept loop runs this far before it accepts the next connection.
        var admission = _unauthenticated.TryAdmit((socket.RemoteEndPoint as IPEndPoint)?.Address ?? IPAddress.None);
        using var slot = admission.Slot;
        var (total, fromAddress) = (admission.Unauthenticated, admission.FromAddress);
        if (slot is null)
        {
            _logger.LogWarning("SFTP connection from {ClientAddress} refused: too many unauthenticated connections ({Unauthenticated} of at most {MaxUnauthenticated} in total, {FromAddress} of at most {MaxUnauthenticatedPerAddress} from this address)",
                address, total, settings.MaxUnauthenticated, fromAddress, settings.MaxUnauthenticatedPerAddress);
            await RefuseAsync(socket);
            return;
        }

        socket.NoDelay = true;
        await using var stream = new NetworkStream(socket, ownsSocket: true);

        ManufacturerAccount? account = null;
        var sftpSessions = new List<Task>();
        var serverOptions = new SshServerOptions
        {
            HostKeys = hostKeys.Keys,
            MaxAuthAttempts = 6,
            AuthFailureDelay = settings.FailedLoginDelay,
            AuthenticationTimeout = TimeSpan.FromSeconds(30),
            MaxChannels = 4,
            PasswordAuthenticator = async (request, ct) =>
            {
                account = await AuthenticateAsync(address, request.UserName, request.Password, ct);
                return account is not null;
            },
            PublicKeyAuthenticator = async (request, ct) =>
            {
                var candidate = await AuthenticateByKeyAsync(address, request.UserName, request.Key.Fingerprint, request.SignatureVerified, ct);
                // Only a verified signature logs in; the unsigned query (RFC 4252 §7) just asks whether the key would do.
                if (request.SignatureVerified)
                    account = candidate;
                return candidate is not null;
            },
            ChannelRequestHandler = (request, _) =>
            {
                if (account is null || request.RequestType != "subsystem" || request.Subsystem != "sftp")
                {
                    _logger.LogWarning("Refused {RequestType} {Command}{Subsystem}: the drop only serves the sftp subsystem",
                        request.RequestType, request.Command, request.Subsystem);
                    return ValueTask.FromResult(false);
                }

                lock (sftpSessions)
                    sftpSessions.Add(RunSftpAsync(request, account, connectionId, stoppingToken));
                return ValueTask.FromResult(true);
            },
        };

        try
        {
            await using var session = await SshServerSession.AcceptAsync(stream, serverOptions, stoppingToken);
            slot.Dispose(); // logged in: no longer counts against the unauthenticated limits
            _logger.LogInformation("Manufacturer {ManufacturerId} logged in as {SftpUser} ({ClientVersion})",
                account!.ManufacturerId, session.UserName, session.ClientVersion);
            await session.Completion;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host shutdown.
        }
        catch (SshAuthenticationException ex)
        {
            _logger.LogWarning("SFTP login from {ClientAddress} failed: {Reason}", address, ex.Message);
        }
        catch (SshConnectionLostException ex)
        {
            _logger.LogInformation("SFTP connection from {ClientAddress} ended: {Reason}", address, ex.Message);
        }
        catch (SshProtocolException ex)
        {
            _logger.LogWarning("SFTP connection from {ClientAddress} ended on a protocol error ({DisconnectReason}): {Reason}", address, ex.Reason, ex.Message);
        }
        catch (IOException ex)
        {
            _logger.LogInformation("SFTP connection from {ClientAddress} dropped: {Reason}", address, ex.Message);
        }

        Task[] running;
        lock (sftpSessions)
            running = [.. sftpSessions];
        await Task.WhenAll(running);
    }

    /// <summary>
    /// Tells a refused connection why and closes it. Its slot is never taken; what remains is a bounded drain: closing
    /// with the client's identification still unread would send a reset, which can destroy the message before the
    /// client reads it, so input is read and dropped until the client hangs up, for at most 2 s.
    /// </summary>
    private static async Task RefuseAsync(Socket socket)
    {
        try
        {
            await socket.SendAsync(TooManyUnauthenticated, SocketFlags.None);
            socket.Shutdown(SocketShutdown.Send);
            using var drain = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            var buffer = new byte[4096];
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, drain.Token) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            // The peer is gone, or kept talking: close anyway.
        }
        finally
        {
            socket.Dispose();
        }
    }

    private async Task<ManufacturerAccount?> AuthenticateAsync(string address, string userName, string passphrase, CancellationToken ct)
    {
        if (throttle.IsLockedOut(address, userName))
        {
            _logger.LogWarning("SFTP login for {SftpUser} from {ClientAddress} refused: locked out after repeated failures", userName, address);
            return null;
        }

        await using var scope = scopes.CreateAsyncScope();
        var account = await scope.ServiceProvider.GetRequiredService<IManufacturerAccounts>().AuthenticateAsync(userName, passphrase, ct);
        if (account is null)
        {
            throttle.RecordFailure(address, userName);
            _logger.LogWarning("SFTP login for {SftpUser} from {ClientAddress} failed: unknown user, wrong passphrase or disabled manufacturer", userName, address);
            return null;
        }

        throttle.RecordSuccess(address, userName);
        return account;
    }

    private async Task<ManufacturerAccount?> AuthenticateByKeyAsync(string address, string userName, string fingerprint, bool signed, CancellationToken ct)
    {
        if (throttle.IsLockedOut(address, userName))
        {
            _logger.LogWarning("SFTP key login for {SftpUser} from {ClientAddress} refused: locked out after repeated failures", userName, address);
            return null;
        }

        await using var scope = scopes.CreateAsyncScope();
        var account = await scope.ServiceProvider.GetRequiredService<IManufacturerAccounts>().AuthenticateByPublicKeyAsync(userName, fingerprint, ct);
        if (account is null)
        {
            // Clients offer every key they hold; an unregistered key is routine, not an attack, so only signed attempts count.
            if (signed)
                throttle.RecordFailure(address, userName);
            _logger.LogInformation("SFTP key {Fingerprint} not accepted for {SftpUser} from {ClientAddress}", fingerprint, userName, address);
        }
        else if (signed)
        {
            throttle.RecordSuccess(address, userName);
        }

        return account;
    }

    private async Task RunSftpAsync(SshChannelRequest request, ManufacturerAccount account, string connectionId, CancellationToken stoppingToken)
    {
        var channel = request.Channel;
        await request.ReplySent;
        var logger = loggers.CreateLogger<ManufacturerDrop>();
        using var scope = logger.BeginScope(new Dictionary<string, object>
        {
            ["ConnectionId"] = connectionId, ["ManufacturerId"] = account.ManufacturerId, ["SftpUser"] = account.SftpUsername,
        });
        // CLOSEs still waiting for their group are dropped when the channel goes (the client heard nothing of them).
        using var sessionEnded = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        _ = channel.Completion.ContinueWith(_ => sessionEnded.Cancel(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        var handler = new ManufacturerDrop(account, scopes, options.Value.Quota, clock, logger,
            message => channel.WriteStandardErrorAsync(System.Text.Encoding.UTF8.GetBytes(message + "\n")), recentUploads, committer, connectionId, sessionEnded.Token);
        uint exitStatus = 0;
        try
        {
            await SftpServer.RunAsync(channel.AsStream(), handler, SftpServerOptions.Default, logger, stoppingToken);
        }
        catch (Exception ex) when (ex is SftpProtocolException or IOException or SshConnectionLostException or OperationCanceledException)
        {
            exitStatus = 1;
            logger.LogInformation("SFTP session ended: {Reason}", ex.Message);
        }

        // Clients such as scp take the ssh process's exit code from the subsystem's exit-status (RFC 4254 §6.10).
        try
        {
            await channel.SendExitStatusAsync(exitStatus, CancellationToken.None);
            await channel.SendEofAsync(CancellationToken.None);
        }
        catch (SshConnectionLostException)
        {
            // The client already went away; nothing to tell it.
        }
        finally
        {
            await channel.CloseAsync(CancellationToken.None);
        }
    }
}
