using System.Security.Cryptography.X509Certificates;
using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.Keys;

/// <summary>
/// Server role, RFC 6187: a host key presented with its certificate chain under one x509v3-* algorithm.
/// Internal for now: the in-memory tests use it to exercise the client's X.509 path end to end; it does not
/// own the key or the certificates.
/// </summary>
internal sealed class X509CertificateHostKey : SshHostKey
{
    private readonly SshHostKey _key;
    private readonly byte[] _blob;

    public X509CertificateHostKey(SshHostKey key, string algorithm, IReadOnlyList<X509Certificate2> chain)
        : base(key.KeyType, key.PublicKey, [algorithm])
    {
        if (!X509HostKey.IsX509Algorithm(algorithm))
            throw new ArgumentException("Not an X.509 host key algorithm: " + algorithm, nameof(algorithm));
        if (chain.Count == 0 || !SshPublicKey.FromCertificate(chain[0]).Equals(key.PublicKey))
            throw new ArgumentException("The first certificate must certify this key", nameof(chain));
        _key = key;
        _blob = X509HostKey.Encode(algorithm, chain);
    }

    internal override byte[] HostKeyBlob => _blob;

    /// <summary>RFC 6187 §5: the plain key's signature under the x509v3 algorithm's signature format name.</summary>
    public override byte[] Sign(string signatureAlgorithm, ReadOnlySpan<byte> data)
    {
        CheckAlgorithm(signatureAlgorithm);
        var (plain, format) = signatureAlgorithm switch
        {
            X509HostKey.EcdsaNistp256 => (SshKeyAlgorithms.EcdsaP256, SshKeyAlgorithms.EcdsaP256),
            X509HostKey.Rsa2048Sha256 => (SshKeyAlgorithms.RsaSha256, X509HostKey.Rsa2048Sha256Signature),
            _ => (SshKeyAlgorithms.Ed25519, SshKeyAlgorithms.Ed25519),
        };
        var r = new SshReader(_key.Sign(plain, data));
        r.ReadAscii();
        return SignatureBlob(format, r.ReadString());
    }

    internal override void WriteOpenSshPrivateFields(SshWriter writer) => throw new NotSupportedException("An X.509 host key is not written as an OpenSSH key file");
}
