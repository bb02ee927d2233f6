using Onboarding.Ssh.Transport;

namespace Onboarding.Ssh;

/// <summary>
/// What both roles configure alike: identification, algorithm lists, rekeying and the handshake time limit.
/// <see cref="SshClientOptions"/> and <see cref="SshServerOptions"/> add only what belongs to one role
/// (host-key verifier and credentials; host keys and authentication). Defaults differ by role where noted.
/// </summary>
public abstract class SshSessionOptions
{
    private protected SshSessionOptions(IReadOnlyList<string> keyExchange, IReadOnlyList<string> ciphers)
    {
        KeyExchangeAlgorithms = keyExchange;
        Ciphers = ciphers;
    }

    /// <summary>RFC 4253 §4.2 identification string we send ("SSH-2.0-softwareversion SP comments").</summary>
    public string Identification { get; init; } = "SSH-2.0-Onboarding_1.0";

    /// <summary>Preferred first. Client default: <see cref="SshAlgorithms.ClientKeyExchange"/>; server: <see cref="SshAlgorithms.ServerKeyExchange"/>.</summary>
    public IReadOnlyList<string> KeyExchangeAlgorithms { get; init; }

    /// <summary>Preferred first. Client default: <see cref="SshAlgorithms.ClientCiphers"/>; server: <see cref="SshAlgorithms.ServerCiphers"/>.</summary>
    public IReadOnlyList<string> Ciphers { get; init; }

    /// <summary>MACs, used with the CTR ciphers only (GCM and chacha20-poly1305 carry their own).</summary>
    public IReadOnlyList<string> Macs { get; init; } = SshAlgorithms.Macs;

    /// <summary>RFC 4253 §9: rekey after this many bytes in either direction (default 1 GiB).</summary>
    public long RekeyBytes { get; init; } = 1L << 30;

    /// <summary>RFC 4253 §9: rekey after this much time (default 1 h).</summary>
    public TimeSpan RekeyInterval { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Time allowed from connection to successful authentication (OpenSSH LoginGraceTime); a stalled peer is dropped.</summary>
    public TimeSpan AuthenticationTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>The transport settings both roles take from these options; each session adds its role's part.</summary>
    internal TransportSettings TransportSettings(bool isServer) => new()
    {
        IsServer = isServer,
        Version = Identification,
        KeyExchange = KeyExchangeAlgorithms,
        Ciphers = Ciphers,
        Macs = Macs,
        RekeyBytes = RekeyBytes,
        RekeyInterval = RekeyInterval,
    };
}
