using System.Net;
using System.Security.Cryptography.X509Certificates;
using Onboarding.Ssh.Keys;

namespace Onboarding.Ssh;

/// <summary>
/// What the client's host-key verifier decides on (call home identifies the device from exactly this).
/// The library has already checked that the server holds the private key of <see cref="HostKey"/> (it signed
/// the exchange hash); whether the key, or the certificate chain, is trusted is the verifier's decision.
/// </summary>
public sealed class SshHostKeyContext
{
    /// <summary>The server's public key; for an RFC 6187 x509v3-* algorithm, the key of the leaf certificate.</summary>
    public required SshPublicKey HostKey { get; init; }

    /// <summary>The negotiated host key algorithm, e.g. "ssh-ed25519" or "x509v3-ecdsa-sha2-nistp256".</summary>
    public required string HostKeyAlgorithm { get; init; }

    /// <summary>
    /// RFC 6187 §3.1: for an x509v3-* host key, the certificates the server sent, its own first, each next one
    /// certifying the one before. Empty for a plain SSH host key. Not validated: chain building and trust
    /// anchors are the verifier's decision.
    /// </summary>
    public IReadOnlyList<X509Certificate2> CertificateChain { get; init; } = [];

    /// <summary>RFC 4253 §4.2: lines the server sent before its identification string (e.g. Juniper DEVICE-CONN-INFO), NULs removed.</summary>
    public IReadOnlyList<string> PreBannerLines { get; init; } = [];

    /// <summary>The server's identification string ("SSH-2.0-…").</summary>
    public required string ServerVersion { get; init; }

    /// <summary>The peer's address as the caller gave it (sessions run over any stream); null when unknown.</summary>
    public EndPoint? RemoteEndPoint { get; init; }
}
