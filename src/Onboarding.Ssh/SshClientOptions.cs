using Onboarding.Ssh.Keys;

namespace Onboarding.Ssh;

/// <summary>Client role: credentials and the host key decision; the rest is in <see cref="SshSessionOptions"/>.</summary>
public sealed class SshClientOptions : SshSessionOptions
{
    public SshClientOptions()
        : base(SshAlgorithms.ClientKeyExchange, SshAlgorithms.ClientCiphers)
    {
    }

    public required string UserName { get; init; }
    public string? Password { get; init; }
    public SshHostKey? ClientKey { get; init; }

    /// <summary>
    /// Required: decides whether the server is trusted, from its host key (or X.509 chain), the lines it sent
    /// before its identification string and its address. Runs once, in the first key exchange, after the
    /// server proved possession of the key.
    /// </summary>
    public required Func<SshHostKeyContext, CancellationToken, ValueTask<bool>> HostKeyVerifier { get; init; }

    /// <summary>Host key algorithms accepted, preferred first (the server's come from its keys).</summary>
    public IReadOnlyList<string> HostKeyAlgorithms { get; init; } = SshAlgorithms.ClientHostKeys;

    /// <summary>Lines a server may send before its version string (Juniper outbound-ssh sends DEVICE-CONN-INFO).</summary>
    public int MaxPreBannerLines { get; init; } = 32;

    /// <summary>Extensions the client announces in its own EXT_INFO (RFC 8308 §2.4); none by default, so none is sent. Tests set it.</summary>
    internal IReadOnlyDictionary<string, string> ExtInfo { get; init; } = new Dictionary<string, string>();
}
