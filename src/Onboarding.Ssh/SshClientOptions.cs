using Onboarding.Ssh.Keys;

namespace Onboarding.Ssh;

/// <summary>Client role configuration: credentials and the host key decision.</summary>
public sealed class SshClientOptions
{
    public required string UserName { get; init; }
    public string? Password { get; init; }
    public SshHostKey? ClientKey { get; init; }

    /// <summary>
    /// Required: decides whether the server is trusted, from its host key (or X.509 chain), the lines it sent
    /// before its identification string and its address. Runs once, in the first key exchange, after the
    /// server proved possession of the key.
    /// </summary>
    public required Func<SshHostKeyContext, CancellationToken, ValueTask<bool>> HostKeyVerifier { get; init; }

    /// <summary>Lines a server may send before its version string (Juniper outbound-ssh sends DEVICE-CONN-INFO).</summary>
    public int MaxPreBannerLines { get; init; } = 32;

    public string ClientVersion { get; init; } = "SSH-2.0-Onboarding_1.0";
    public IReadOnlyList<string> KeyExchangeAlgorithms { get; init; } = SshAlgorithms.ClientKeyExchange;
    public IReadOnlyList<string> HostKeyAlgorithms { get; init; } = SshAlgorithms.ClientHostKeys;
    public IReadOnlyList<string> Ciphers { get; init; } = SshAlgorithms.ClientCiphers;
    public IReadOnlyList<string> Macs { get; init; } = SshAlgorithms.Macs;
    public long RekeyBytes { get; init; } = 1L << 30;
    public TimeSpan RekeyInterval { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Extensions the client announces in its own EXT_INFO (RFC 8308 §2.4); none by default, so none is sent. Tests set it.</summary>
    internal IReadOnlyDictionary<string, string> ExtInfo { get; init; } = new Dictionary<string, string>();
}
