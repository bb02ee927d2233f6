using Onboarding.Ssh.Connection;
using Onboarding.Ssh.Keys;

namespace Onboarding.Ssh;

/// <summary>Server role configuration: host keys and the application's authentication and channel decisions.</summary>
public sealed class SshServerOptions
{
    public required IReadOnlyList<SshHostKey> HostKeys { get; init; }

    /// <summary>Decides a password login. Null disables the "password" method.</summary>
    public Func<SshPasswordRequest, CancellationToken, ValueTask<bool>>? PasswordAuthenticator { get; init; }

    /// <summary>Decides whether a public key may log in; the library has verified the signature (or it is a query). Null disables "publickey".</summary>
    public Func<SshPublicKeyRequest, CancellationToken, ValueTask<bool>>? PublicKeyAuthenticator { get; init; }

    /// <summary>
    /// Decides exec / subsystem / shell requests on a session channel. Return promptly: start the work
    /// (reading and writing <see cref="SshChannelRequest.Channel"/>) on another task, then return true.
    /// </summary>
    public Func<SshChannelRequest, CancellationToken, ValueTask<bool>>? ChannelRequestHandler { get; init; }

    public int MaxAuthAttempts { get; init; } = 6;
    public TimeSpan AuthFailureDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Time allowed from connection to successful authentication (OpenSSH LoginGraceTime).</summary>
    public TimeSpan AuthenticationTimeout { get; init; } = TimeSpan.FromMinutes(2);

    public int MaxChannels { get; init; } = 10;
    public string ServerVersion { get; init; } = "SSH-2.0-Onboarding_1.0";
    public IReadOnlyList<string> KeyExchangeAlgorithms { get; init; } = SshAlgorithms.ServerKeyExchange;
    public IReadOnlyList<string> Ciphers { get; init; } = SshAlgorithms.ServerCiphers;
    public IReadOnlyList<string> Macs { get; init; } = SshAlgorithms.Macs;
    public long RekeyBytes { get; init; } = 1L << 30;
    public TimeSpan RekeyInterval { get; init; } = TimeSpan.FromHours(1);
}

/// <summary>Client role configuration: credentials and the host key decision.</summary>
public sealed class SshClientOptions
{
    public required string UserName { get; init; }
    public string? Password { get; init; }
    public SshHostKey? ClientKey { get; init; }

    /// <summary>Required: decides whether the server's host key is trusted.</summary>
    public required Func<SshPublicKey, CancellationToken, ValueTask<bool>> HostKeyVerifier { get; init; }

    /// <summary>Lines a server may send before its version string (Juniper outbound-ssh sends DEVICE-CONN-INFO).</summary>
    public int MaxPreBannerLines { get; init; } = 32;

    public string ClientVersion { get; init; } = "SSH-2.0-Onboarding_1.0";
    public IReadOnlyList<string> KeyExchangeAlgorithms { get; init; } = SshAlgorithms.ClientKeyExchange;
    public IReadOnlyList<string> HostKeyAlgorithms { get; init; } = SshAlgorithms.ClientHostKeys;
    public IReadOnlyList<string> Ciphers { get; init; } = SshAlgorithms.ClientCiphers;
    public IReadOnlyList<string> Macs { get; init; } = SshAlgorithms.Macs;
    public long RekeyBytes { get; init; } = 1L << 30;
    public TimeSpan RekeyInterval { get; init; } = TimeSpan.FromHours(1);
}

/// <summary>A password login attempt. <see cref="ToString"/> never shows the password.</summary>
public sealed class SshPasswordRequest(string userName, string password, string? clientVersion)
{
    public string UserName { get; } = userName;
    public string Password { get; } = password;
    public string? ClientVersion { get; } = clientVersion;

    public override string ToString() => $"password login for {UserName}";
}

/// <summary>A public key login: a query (no signature yet) or a verified signature.</summary>
public sealed class SshPublicKeyRequest(string userName, SshPublicKey key, bool signatureVerified, string? clientVersion)
{
    public string UserName { get; } = userName;
    public SshPublicKey Key { get; } = key;

    /// <summary>False for the RFC 4252 §7 query ("would you accept this key?").</summary>
    public bool SignatureVerified { get; } = signatureVerified;

    public string? ClientVersion { get; } = clientVersion;

    public override string ToString() => $"publickey login for {UserName} with {Key}";
}

/// <summary>An exec, subsystem or shell request on a session channel (RFC 4254 §6.5).</summary>
public sealed class SshChannelRequest(SshChannel channel, string requestType, string? command, string? subsystem, string userName)
{
    public SshChannel Channel { get; } = channel;

    /// <summary>"exec", "subsystem" or "shell".</summary>
    public string RequestType { get; } = requestType;

    public string? Command { get; } = command;
    public string? Subsystem { get; } = subsystem;
    public string UserName { get; } = userName;
}
