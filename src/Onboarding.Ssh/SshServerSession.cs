using Onboarding.Ssh.Auth;
using Onboarding.Ssh.Connection;
using Onboarding.Ssh.Transport;

namespace Onboarding.Ssh;

/// <summary>The server role over any stream: key exchange, authentication by callbacks, then session channels.</summary>
public sealed class SshServerSession : IAsyncDisposable
{
    private readonly SshTransport _transport;
    private readonly SshConnection _connection;

    private SshServerSession(SshTransport transport, SshConnection connection, string userName)
    {
        _transport = transport;
        _connection = connection;
        UserName = userName;
    }

    /// <summary>The authenticated user.</summary>
    public string UserName { get; }

    public string? ClientVersion => _transport.PeerVersion;

    /// <summary>Completes when the connection ends; faults with <see cref="SshProtocolException"/> if it ended on a protocol error.</summary>
    public Task Completion => _connection.Completion;

    /// <summary>
    /// Runs the version exchange, key exchange and authentication on <paramref name="stream"/>.
    /// On failure the peer gets SSH_MSG_DISCONNECT, the stream is closed and the error is thrown
    /// (<see cref="SshProtocolException"/>, <see cref="SshAuthenticationException"/> or <see cref="SshConnectionLostException"/>).
    /// </summary>
    public static async Task<SshServerSession> AcceptAsync(Stream stream, SshServerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(options);
        if (options.HostKeys.Count == 0)
            throw new ArgumentException("At least one host key is required", nameof(options));
        foreach (var key in options.HostKeys)
        {
            // DESIGN.md: RSA host keys must be at least 3072 bits.
            if (key.PublicKey.RsaBits is > 0 and < 3072)
                throw new ArgumentException("RSA host keys must be at least 3072 bits", nameof(options));
        }
        var transport = new SshTransport(stream, options.TransportSettings(isServer: true) with { HostKeys = options.HostKeys });
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.AuthenticationTimeout);
        try
        {
            await transport.StartAsync(timeout.Token).ConfigureAwait(false);
            var user = await ServerAuthentication.RunAsync(transport, options, timeout.Token).ConfigureAwait(false);
            var connection = new SshConnection(transport, user, options.ChannelRequestHandler, options.MaxChannels);
            connection.Start();
            return new SshServerSession(transport, connection, user);
        }
        catch (SshProtocolException ex)
        {
            await transport.CloseAsync(ex.Reason, ex.Message).ConfigureAwait(false);
            throw;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await transport.CloseAsync(SshDisconnectReason.ByApplication, "Authentication timeout").ConfigureAwait(false);
            throw new SshAuthenticationException("Authentication did not complete in time");
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

    /// <summary>Sends SSH_MSG_DISCONNECT (by application) and closes the stream.</summary>
    public async ValueTask DisposeAsync() => await _connection.CloseAsync(SshDisconnectReason.ByApplication, "Closed by server").ConfigureAwait(false);
}
