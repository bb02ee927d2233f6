using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.Keys;

/// <summary>
/// RFC 6187 X.509v3 host keys, client side: the key blob carries a certificate chain (and OCSP responses),
/// the exchange hash is signed with the leaf certificate's key. x509v3-ssh-ed25519 follows the same pattern
/// (PKIX-SSH). SHA-1 "x509v3-ssh-rsa" and DSA are not accepted.
/// </summary>
internal sealed class X509HostKey
{
    public const string EcdsaNistp256 = "x509v3-ecdsa-sha2-nistp256";
    public const string Rsa2048Sha256 = "x509v3-rsa2048-sha256";
    public const string Ed25519 = "x509v3-ssh-ed25519";

    /// <summary>RFC 6187 §5: the signature format of x509v3-rsa2048-sha256 (RSASSA-PKCS1-v1_5 with SHA-256).</summary>
    public const string Rsa2048Sha256Signature = "rsa2048-sha256";

    // Bounds checked before anything is allocated: a device chain is leaf, intermediates, perhaps the root.
    internal const int MaxCertificates = 8;
    internal const int MaxOcspResponses = 8;

    private X509HostKey(SshPublicKey leafKey, IReadOnlyList<X509Certificate2> chain)
    {
        LeafKey = leafKey;
        Chain = chain;
    }

    /// <summary>The SSH form of the leaf certificate's public key.</summary>
    public SshPublicKey LeafKey { get; }

    /// <summary>Leaf first (RFC 6187 §3.1).</summary>
    public IReadOnlyList<X509Certificate2> Chain { get; }

    public static bool IsX509Algorithm(string algorithm) => algorithm is EcdsaNistp256 or Rsa2048Sha256 or Ed25519;

    /// <summary>
    /// RFC 6187 §3.1: string algorithm, uint32 certificate-count (≥ 1), string certificate[count] (DER),
    /// uint32 ocsp-response-count, string ocsp-response[count]. The leaf's key must suit <paramref name="algorithm"/>.
    /// </summary>
    public static X509HostKey Parse(string algorithm, ReadOnlySpan<byte> blob)
    {
        if (!IsX509Algorithm(algorithm))
            throw Bad("Not an X.509 host key algorithm: " + algorithm);
        var r = new SshReader(blob);
        if (r.ReadAscii() != algorithm)
            throw Bad("X.509 host key blob does not name the negotiated algorithm");
        var count = r.ReadUInt32();
        if (count is 0 or > MaxCertificates)
            throw Bad($"X.509 host key must carry 1 to {MaxCertificates} certificates");
        var chain = new List<X509Certificate2>((int)count);
        try
        {
            for (var i = 0; i < count; i++)
                chain.Add(X509CertificateLoader.LoadCertificate(r.ReadString()));
            var ocsp = r.ReadUInt32();
            if (ocsp > MaxOcspResponses)
                throw Bad("Too many OCSP responses in the X.509 host key");
            for (var i = 0; i < ocsp; i++)
                r.ReadString(); // carried for the verifier's revocation policy; we do not interpret them
            r.EnsureEnd();
            SshPublicKey leafKey;
            try
            {
                leafKey = SshPublicKey.FromCertificate(chain[0]);
            }
            catch (NotSupportedException)
            {
                throw Bad("The leaf certificate's key algorithm is not supported");
            }
            var suits = algorithm switch
            {
                EcdsaNistp256 => leafKey.KeyType == SshKeyAlgorithms.EcdsaP256,
                Rsa2048Sha256 => leafKey.KeyType == SshKeyAlgorithms.Rsa && leafKey.RsaBits >= 2048,
                _ => leafKey.KeyType == SshKeyAlgorithms.Ed25519,
            };
            if (!suits)
                throw Bad("The leaf certificate's key does not match " + algorithm);
            return new X509HostKey(leafKey, chain);
        }
        catch (CryptographicException)
        {
            DisposeAll(chain);
            throw Bad("X.509 host key holds a certificate that cannot be read");
        }
        catch
        {
            DisposeAll(chain);
            throw;
        }
    }

    /// <summary>
    /// RFC 6187 §5: the signature is (string format, string blob) with format "ecdsa-sha2-nistp256",
    /// "rsa2048-sha256" or "ssh-ed25519"; the blob is encoded as for the plain key type (RFC 5656, RFC 8332, RFC 8709).
    /// </summary>
    public bool Verify(string algorithm, ReadOnlySpan<byte> signatureBlob, ReadOnlySpan<byte> data)
    {
        string format;
        ReadOnlySpan<byte> signature;
        try
        {
            var r = new SshReader(signatureBlob, 16 * 1024);
            format = r.ReadAscii();
            signature = r.ReadString();
            r.EnsureEnd();
        }
        catch (SshProtocolException)
        {
            return false;
        }
        var plainAlgorithm = algorithm switch
        {
            EcdsaNistp256 when format == SshKeyAlgorithms.EcdsaP256 => SshKeyAlgorithms.EcdsaP256,
            Rsa2048Sha256 when format == Rsa2048Sha256Signature => SshKeyAlgorithms.RsaSha256,
            Ed25519 when format == SshKeyAlgorithms.Ed25519 => SshKeyAlgorithms.Ed25519,
            _ => null,
        };
        if (plainAlgorithm is null)
            return false;
        // Same signature bytes under the plain algorithm's name: one verification path for both forms.
        using var w = new SshWriter(signature.Length + 64);
        w.WriteString(plainAlgorithm);
        w.WriteString(signature);
        return LeafKey.Verify(w.WrittenSpan, data);
    }

    /// <summary>Writes the RFC 6187 §3.1 key blob (tests and a future server role).</summary>
    public static byte[] Encode(string algorithm, IReadOnlyList<X509Certificate2> chain)
    {
        using var w = new SshWriter();
        w.WriteString(algorithm);
        w.WriteUInt32((uint)chain.Count);
        foreach (var cert in chain)
            w.WriteString(cert.RawData);
        w.WriteUInt32(0);
        return w.ToArray();
    }

    private static void DisposeAll(List<X509Certificate2> chain)
    {
        foreach (var c in chain)
            c.Dispose();
    }

    private static SshProtocolException Bad(string message) => new(SshDisconnectReason.KeyExchangeFailed, message);
}
