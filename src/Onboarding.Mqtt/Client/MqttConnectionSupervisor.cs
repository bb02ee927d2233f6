using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.Logging;
using Onboarding.Mqtt.Packets;

namespace Onboarding.Mqtt;

/// <summary>
/// Keeps the session's connection up: TCP (and TLS) connect, CONNECT/CONNACK, and after a loss reconnecting with
/// exponential back-off and jitter until <see cref="StopAsync"/>. Each accepted connection is attached to the
/// <see cref="MqttSession"/>, which resumes from there; the connection itself runs the keepalive.
/// </summary>
internal sealed class MqttConnectionSupervisor
{
    private static readonly TimeSpan DisconnectFlushTimeout = TimeSpan.FromSeconds(5);

    private readonly MqttClientOptions _options;
    private readonly ILogger _logger;
    private readonly MqttSession _session;
    private readonly Action<bool> _connected;
    private CancellationTokenSource? _lifetime; // guarded by the session's gate, as it changes together with the attachment
    private Task _supervisor = Task.CompletedTask;
    private int _generation;
    private bool _everConnected;

    /// <param name="connected">Called after every accepted CONNACK with Session Present.</param>
    public MqttConnectionSupervisor(MqttClientOptions options, ILogger logger, MqttSession session, Action<bool> connected)
    {
        _options = options;
        _logger = logger;
        _session = session;
        _connected = connected;
    }

    /// <summary>Connects once (errors surface here), then supervises the connection in the background.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        CancellationTokenSource lifetime;
        lock (_session.Gate)
        {
            if (_lifetime is not null)
                throw new InvalidOperationException("Already connected or connecting");
            _lifetime = lifetime = new CancellationTokenSource();
        }
        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.Token);
            var connection = await ConnectOnceAsync(_options.CleanStart && !_everConnected, linked.Token);
            _supervisor = SuperviseAsync(connection, lifetime.Token);
        }
        catch
        {
            lock (_session.Gate)
            {
                lifetime.Dispose();
                _lifetime = null;
            }
            throw;
        }
    }

    /// <summary>Sends DISCONNECT after what is queued and stops reconnecting.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        MqttConnection? connection;
        CancellationTokenSource? lifetime;
        lock (_session.Gate)
        {
            connection = _session.Detach();
            lifetime = _lifetime;
            _lifetime = null;
        }
        if (lifetime is null)
            return;
        await lifetime.CancelAsync();
        if (connection is not null)
        {
            await connection.CloseGracefullyAsync(new DisconnectPacket(), DisconnectFlushTimeout);
            MqttLog.Disconnected(_logger, _session.ClientId);
        }
        await _supervisor.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        lifetime.Dispose();
    }

    private async Task SuperviseAsync(MqttConnection connection, CancellationToken lifetime)
    {
        var attempt = 0;
        while (!lifetime.IsCancellationRequested)
        {
            var reason = await connection.Closed;
            if (lifetime.IsCancellationRequested)
            {
                await connection.DisposeAsync();
                return;
            }
            if (_session.Detach(connection, reason))
                MqttLog.ConnectionLost(_logger, _session.ClientId, connection.Generation, reason?.Message ?? "closed");
            await connection.DisposeAsync();
            if (!_options.AutoReconnect)
                return;
            while (true)
            {
                var delay = Backoff(attempt++);
                try
                {
                    await Task.Delay(delay, lifetime);
                    connection = await ConnectOnceAsync(cleanStart: false, lifetime);
                    attempt = 0;
                    break;
                }
                catch (OperationCanceledException) when (lifetime.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e) when (!lifetime.IsCancellationRequested)
                {
                    // Whatever failed (DNS, TCP, TLS, CONNACK refusal, protocol error), keep trying: giving up
                    // would leave an ingester silently disconnected.
                    MqttLog.ReconnectFailed(_logger, _session.ClientId, attempt, e.Message);
                }
            }
        }
    }

    private TimeSpan Backoff(int attempt) =>
#pragma warning disable CA5394 // Jitter only spreads reconnects; it needs no cryptographic randomness.
        ReconnectDelay(attempt, _options.ReconnectMinDelay, _options.ReconnectMaxDelay, Random.Shared.NextDouble());
#pragma warning restore CA5394

    /// <summary>
    /// Exponential back-off with jitter: the delay doubles per attempt up to the maximum, and a random
    /// 50-100 % of it is used (<paramref name="random"/> in [0, 1)), so a fleet of clients does not
    /// reconnect in lock step after a broker restart.
    /// </summary>
    internal static TimeSpan ReconnectDelay(int attempt, TimeSpan min, TimeSpan max, double random)
    {
        var exponential = min.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 30));
        var capped = Math.Min(exponential, max.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.5 + (random * 0.5)));
    }

    private async Task<MqttConnection> ConnectOnceAsync(bool cleanStart, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ConnectTimeout);
        try
        {
            return await ConnectOnceAsync(cleanStart, timeout.Token, cancellationToken);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"No CONNACK from {_options.Host}:{_options.Port} within {_options.ConnectTimeout}", e);
        }
    }

    // A DedicatedReceiveThread connection connects with blocking calls (OpenStreamAsync): on a pool thread, never the caller's.
    private Task<MqttConnection> ConnectOnceAsync(bool cleanStart, CancellationToken timeoutToken, CancellationToken cancellationToken) =>
        _options.DedicatedReceiveThread
            ? Task.Run(() => ConnectOnceCoreAsync(cleanStart, timeoutToken, cancellationToken), CancellationToken.None)
            : ConnectOnceCoreAsync(cleanStart, timeoutToken, cancellationToken);

    private async Task<MqttConnection> ConnectOnceCoreAsync(bool cleanStart, CancellationToken timeoutToken, CancellationToken cancellationToken)
    {
        var (socket, stream) = await OpenStreamAsync(timeoutToken);
        var connection = new MqttConnection(socket, stream, _options.ProtocolVersion, _options.MaximumPacketSize, _logger, _session.ClientId, Interlocked.Increment(ref _generation))
        {
            DedicatedReceiveThread = _options.DedicatedReceiveThread,
        };
        try
        {
            var connAck = await connection.HandshakeAsync(BuildConnect(cleanStart), timeoutToken);
            var code = connAck.ReasonCodeFor(_options.ProtocolVersion);
            if (code != MqttReasonCode.Success)
            {
                var reason = connAck.Properties.ReasonString is { } text ? $" ({text})" : "";
                throw new MqttConnectException(code, $"CONNACK refused the connection with 0x{code:X2}{reason}");
            }
            var keepAlive = connAck.Properties.ServerKeepAlive is { } serverKeepAlive ? TimeSpan.FromSeconds(serverKeepAlive) : _options.KeepAlive;
            _session.Attach(connection, connAck, keepAlive, cancellationToken);
            _everConnected = true;
            MqttLog.Connected(_logger, _session.ClientId, connection.Generation, _options.Host, _options.Port, (int)_options.ProtocolVersion, connAck.SessionPresent, keepAlive);
            _connected(connAck.SessionPresent);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private ConnectPacket BuildConnect(bool cleanStart)
    {
        var properties = new MqttProperties();
        if (_options.ProtocolVersion == MqttProtocolVersion.V500)
        {
            properties.SessionExpiryInterval = _options.SessionExpiryInterval;
            properties.ReceiveMaximum = _options.ReceiveMaximum;
            properties.MaximumPacketSize = _options.MaximumPacketSize;
        }
        return new ConnectPacket
        {
            ProtocolVersion = _options.ProtocolVersion,
            ClientId = _session.ClientId,
            CleanStart = cleanStart,
            KeepAliveSeconds = (ushort)Math.Min(ushort.MaxValue, _options.KeepAlive.TotalSeconds),
            UserName = _options.UserName,
            Password = _options.Password is null ? null : Encoding.UTF8.GetBytes(_options.Password),
            Properties = properties,
            Will = _options.Will is not { } will ? null : new WillMessage
            {
                Topic = will.Topic,
                Payload = will.Payload,
                QoS = will.QoS,
                Retain = will.Retain,
                Properties = new MqttProperties { WillDelayInterval = will.DelayInterval == 0 ? null : will.DelayInterval },
            },
        };
    }

    /// <summary>
    /// TCP connection and TLS handshake. For <see cref="MqttClientOptions.DedicatedReceiveThread"/> both are blocking
    /// calls (a pool thread waits for them; cancellation disposes the socket): a socket .NET never had to wait on
    /// asynchronously stays out of its epoll set, so the data arriving for the receive thread does not also wake the
    /// socket engine's thread and, through it, a pool thread.
    /// </summary>
    private async Task<(Socket, Stream)> OpenStreamAsync(CancellationToken cancellationToken)
    {
        var blocking = _options.DedicatedReceiveThread;
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? stream = null;
        try
        {
            using var cancel = blocking ? cancellationToken.Register(socket.Dispose) : default;
            try
            {
                if (blocking)
                    socket.Connect(_options.Host, _options.Port);
                else
                    await socket.ConnectAsync(_options.Host, _options.Port, cancellationToken);
                stream = new NetworkStream(socket, ownsSocket: true);
                if (_options.Tls is not { } tls)
                    return (socket, stream);
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                var authentication = new SslClientAuthenticationOptions
                {
                    TargetHost = tls.TargetHost ?? _options.Host,
                    ClientCertificates = tls.ClientCertificate is null ? null : [tls.ClientCertificate],
                    RemoteCertificateValidationCallback = tls.RemoteCertificateValidation ?? ((_, certificate, _, errors) => ValidateBroker(tls, certificate, errors)),
                };
                if (blocking)
                    ssl.AuthenticateAsClient(authentication);
                else
                    await ssl.AuthenticateAsClientAsync(authentication, cancellationToken);
                return (socket, ssl);
            }
            catch (Exception e) when (blocking && cancellationToken.IsCancellationRequested && e is SocketException or IOException or ObjectDisposedException)
            {
                throw new OperationCanceledException("Cancelled while connecting", e, cancellationToken);
            }
        }
        catch
        {
            if (stream is not null)
                await stream.DisposeAsync();
            else
                socket.Dispose();
            throw;
        }
    }

    private static bool ValidateBroker(MqttTlsOptions tls, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (tls.TrustedCertificateAuthorities is not { Count: > 0 } roots)
            return errors == SslPolicyErrors.None;
        // With our own CA, only the chain is re-evaluated; a name mismatch is still fatal.
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        // Only the broker's own chain and our CAs: no fetching of issuers the certificate names (AIA).
        chain.ChainPolicy.DisableCertificateDownloads = true;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }
}
