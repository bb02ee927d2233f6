using Onboarding.Ssh.Keys;

namespace Onboarding.Ssh;

/// <summary>Server role: host keys and the application's authentication and channel decisions; the rest is in <see cref="SshSessionOptions"/>.</summary>
public sealed class SshServerOptions : SshSessionOptions
{
    public SshServerOptions()
        : base(SshAlgorithms.ServerKeyExchange, SshAlgorithms.ServerCiphers)
    {
    }

    public required IReadOnlyList<SshHostKey> HostKeys { get; init; }

    /// <summary>Decides a password login. Null disables the "password" method.</summary>
    public Func<SshPasswordRequest, CancellationToken, ValueTask<bool>>? PasswordAuthenticator { get; init; }

    /// <summary>Decides whether a public key may log in; the library has verified the signature (or it is a query). Null disables "publickey".</summary>
    public Func<SshPublicKeyRequest, CancellationToken, ValueTask<bool>>? PublicKeyAuthenticator { get; init; }

    /// <summary>
    /// Decides exec / subsystem / shell requests on a session channel. It runs off the connection's read
    /// loop, but the peer gets its SUCCESS/FAILURE reply only when it returns: start the work (reading and
    /// writing <see cref="SshChannelRequest.Channel"/>) on another task, then return true. A handler that
    /// throws counts as a refusal.
    /// </summary>
    public Func<SshChannelRequest, CancellationToken, ValueTask<bool>>? ChannelRequestHandler { get; init; }

    public int MaxAuthAttempts { get; init; } = 6;
    public TimeSpan AuthFailureDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Channels a client may hold open at once.</summary>
    public int MaxChannels { get; init; } = 10;
}
