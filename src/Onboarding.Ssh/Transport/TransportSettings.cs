using Onboarding.Ssh.Keys;

namespace Onboarding.Ssh.Transport;

/// <summary>Role and algorithm configuration of one transport (the role is configuration, not code).</summary>
internal sealed record TransportSettings
{
    public required bool IsServer { get; init; }
    public required string Version { get; init; }
    public int MaxPreBannerLines { get; init; } = 32;
    public required IReadOnlyList<string> KeyExchange { get; init; }
    public required IReadOnlyList<string> Ciphers { get; init; }
    public required IReadOnlyList<string> Macs { get; init; }

    /// <summary>Client role: host key algorithms accepted.</summary>
    public IReadOnlyList<string> HostKeyAlgorithms { get; init; } = [];

    /// <summary>Server role: host keys.</summary>
    public IReadOnlyList<SshHostKey> HostKeys { get; init; } = [];

    /// <summary>Client role: decides whether the server's host key is trusted (first key exchange only).</summary>
    public Func<SshHostKeyContext, CancellationToken, ValueTask<bool>>? HostKeyVerifier { get; init; }

    /// <summary>Client role: the server's address as the caller knows it, handed to the verifier.</summary>
    public System.Net.EndPoint? RemoteEndPoint { get; init; }

    /// <summary>RFC 4253 §9: rekey after this many bytes in either direction (default 1 GiB).</summary>
    public long RekeyBytes { get; init; } = 1L << 30;

    /// <summary>RFC 4253 §9: rekey after this much time (default 1 h).</summary>
    public TimeSpan RekeyInterval { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Offer strict KEX (Terrapin countermeasure). Only tests turn it off.</summary>
    public bool OfferStrictKex { get; init; } = true;

    /// <summary>Announce ext-info-c / ext-info-s (RFC 8308 §2.1). Only tests turn it off.</summary>
    public bool OfferExtInfo { get; init; } = true;

    /// <summary>
    /// Extensions we send in our EXT_INFO when the peer announced ext-info (RFC 8308 §2.3). The server adds
    /// server-sig-algs; a client sends EXT_INFO only when this is not empty.
    /// </summary>
    public IReadOnlyDictionary<string, string> ExtInfo { get; init; } = new Dictionary<string, string>();

    /// <summary>Server-sig-algs to advertise in EXT_INFO (server role).</summary>
    public IReadOnlyList<string> ServerSigAlgs { get; init; } = [SshAlgorithms.Ed25519, SshAlgorithms.EcdsaNistp256, SshAlgorithms.EcdsaNistp384, SshAlgorithms.EcdsaNistp521, SshAlgorithms.RsaSha512, SshAlgorithms.RsaSha256];
}
