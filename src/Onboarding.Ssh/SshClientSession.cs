using System.Net;
using System.Net.Sockets;
using Onboarding.Ssh.Auth;
using Onboarding.Ssh.Connection;
using Onboarding.Ssh.Keys;
using Onboarding.Ssh.Transport;

namespace Onboarding.Ssh;

/// <summary>The client role over any stream (for call home: accept TCP, then connect a client session on it).</summary>
public sealed class SshClientSession : IAsyncDisposable
{
    private readonly SshTransport _transport;
    private readonly SshConnection _connection;

    private SshClientSession(SshTransport transport, SshConnection connection)
    {
        _transport = transport;
        _connection = connection;
    }

    /// <summary>Lines the server sent before its version string (e.g. Juniper DEVICE-CONN-INFO).</summary>
    public IReadOnlyList<string> PreBannerLines => _transport.PreBannerLines;

    public string? ServerVersion => _transport.PeerVersion;

    /// <summary>The host key the server proved possession of (and the verifier accepted).</summary>
    public SshPublicKey ServerHostKey => _transport.ServerHostKey!;

    /// <summary>What the host-key verifier accepted: key, X.509 chain, pre-banner lines, remote endpoint.</summary>
    public SshHostKeyContext HostKeyContext => _transport.HostKeyContext!;

    /// <summary>Completes when the connection ends; faults with <see cref="SshProtocolException"/> on a protocol error.</summary>
    public Task Completion => _connection.Completion;

    internal SshTransport Transport => _transport;

    /// <summary>
    /// Runs the handshake and authentication on <paramref name="stream"/>. The host-key verifier sees the
    /// remote endpoint of a <see cref="NetworkStream"/>'s socket; use the overload to name it for other streams.
    /// </summary>
    public static Task<SshClientSession> ConnectAsync(Stream stream, SshClientOptions options, CancellationToken cancellationToken = default) =>
        ConnectAsync(stream, options, (stream as NetworkStream)?.Socket.RemoteEndPoint, cancellationToken);

    /// <summary>As above, with the peer's address given by the caller (e.g. the accepted call-home socket behind a TLS or proxy stream).</summary>
    public static async Task<SshClientSession> ConnectAsync(Stream stream, SshClientOptions options, EndPoint? remoteEndPoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.HostKeyVerifier);
        var transport = new SshTransport(stream, options.TransportSettings(isServer: false) with
        {
            MaxPreBannerLines = options.MaxPreBannerLines,
            HostKeyAlgorithms = options.HostKeyAlgorithms,
            HostKeyVerifier = options.HostKeyVerifier,
            RemoteEndPoint = remoteEndPoint,
            ExtInfo = options.ExtInfo,
        });
        // The same time limit as the server's: a call-home peer that stalls the handshake must not hold us.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.AuthenticationTimeout);
        try
        {
            await transport.StartAsync(timeout.Token).ConfigureAwait(false);
            await ClientAuthentication.RunAsync(transport, options, timeout.Token).ConfigureAwait(false);
            var connection = new SshConnection(transport, options.UserName, null, 0);
            connection.Start();
            return new SshClientSession(transport, connection);
        }
        catch (SshProtocolException ex)
        {
            await transport.CloseAsync(ex.Reason, ex.Message).ConfigureAwait(false);
            throw;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await transport.CloseAsync(SshDisconnectReason.ByApplication, "Authentication timeout").ConfigureAwait(false);
            throw new SshAuthenticationException("The server did not complete the handshake and authentication in time");
        }
        catch (IOException ex)
        {
            await transport.DisposeAsync().ConfigureAwait(false);
            throw new SshConnectionLostException("Connection failed during the handshake", ex);
        }
        catch
        {
            await transport.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Opens a "session" channel; then call ExecAsync or RequestSubsystemAsync on it.</summary>
    public Task<SshChannel> OpenSessionAsync(CancellationToken cancellationToken = default) => _connection.OpenSessionAsync(cancellationToken);

    /// <summary>
    /// Sends a global request (RFC 4254 §4) with no request-specific data, e.g. <see cref="KeepaliveRequestName"/>. With
    /// <paramref name="wantReply"/> it completes with the peer's answer: true for REQUEST_SUCCESS, false for
    /// REQUEST_FAILURE (a peer that does not know the request says so, which proves it is alive all the same).
    /// Cancelling only stops the wait; the reply, when it comes, is still matched to this request.
    /// </summary>
    /// <exception cref="SshConnectionLostException">The connection ended before the reply.</exception>
    public Task<bool> GlobalRequestAsync(string requestName, bool wantReply = true, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(requestName);
        return _connection.GlobalRequestAsync(requestName, wantReply, cancellationToken);
    }

    /// <summary>OpenSSH's keepalive (ServerAliveInterval): a request no server implements, sent for its reply.</summary>
    public const string KeepaliveRequestName = "keepalive@openssh.com";

    /// <summary>A <see cref="KeepaliveRequestName"/> request wanting a reply; completes when the server answered either way.</summary>
    public async Task SendKeepaliveAsync(CancellationToken cancellationToken = default) =>
        await GlobalRequestAsync(KeepaliveRequestName, wantReply: true, cancellationToken).ConfigureAwait(false);

    public async ValueTask DisposeAsync() => await _connection.CloseAsync(SshDisconnectReason.ByApplication, "Closed by client").ConfigureAwait(false);
}
