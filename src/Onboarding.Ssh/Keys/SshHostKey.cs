using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Text;
using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.Keys;

/// <summary>A private key usable as an SSH host key or as a client authentication key.</summary>
public abstract class SshHostKey : IDisposable
{
    private protected SshHostKey(string keyType, SshPublicKey publicKey, IReadOnlyList<string> signatureAlgorithms)
    {
        KeyType = keyType;
        PublicKey = publicKey;
        SignatureAlgorithms = signatureAlgorithms;
    }

    /// <summary>"ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256/384/521".</summary>
    public string KeyType { get; }

    public SshPublicKey PublicKey { get; }

    /// <summary>Signature algorithms this key can produce, preferred first. RSA never offers SHA-1 "ssh-rsa".</summary>
    public IReadOnlyList<string> SignatureAlgorithms { get; }

    public static SshHostKey GenerateEd25519() => Ed25519HostKey.Generate();

    public static SshHostKey GenerateRsa(int bits = 3072)
    {
        if (bits < 2048)
            throw new ArgumentOutOfRangeException(nameof(bits), "RSA keys must be at least 2048 bits");
        return new RsaHostKey(RSA.Create(bits));
    }

    /// <summary>Generates an ECDSA key on nistp256, nistp384 or nistp521.</summary>
    public static SshHostKey GenerateEcdsa(int curveBits = 256)
    {
        var curve = curveBits switch
        {
            256 => ECCurve.NamedCurves.nistP256,
            384 => ECCurve.NamedCurves.nistP384,
            521 => ECCurve.NamedCurves.nistP521,
            _ => throw new ArgumentOutOfRangeException(nameof(curveBits), "Use 256, 384 or 521"),
        };
        return new EcdsaHostKey(ECDsa.Create(curve));
    }

    /// <summary>
    /// Parses an unencrypted private key: OpenSSH "openssh-key-v1" (PROTOCOL.key), PKCS#8 "PRIVATE KEY",
    /// or the traditional "RSA PRIVATE KEY" / "EC PRIVATE KEY" PEM forms.
    /// </summary>
    public static SshHostKey ParseOpenSshPrivateKey(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Contains("-----BEGIN OPENSSH PRIVATE KEY-----", StringComparison.Ordinal))
            return OpenSshKeyFile.Read(text);
        if (!PemEncoding.TryFind(text, out var fields))
            throw new FormatException("No PEM private key found");
        var label = text[fields.Label];
        byte[] der;
        try
        {
            der = Convert.FromBase64String(text[fields.Base64Data]);
        }
        catch (FormatException)
        {
            throw new FormatException("PEM body is not valid base64");
        }
        try
        {
            return label switch
            {
                "PRIVATE KEY" => FromPkcs8(der),
                "RSA PRIVATE KEY" => FromRsa(r => r.ImportRSAPrivateKey(der, out _)),
                "EC PRIVATE KEY" => FromEc(e => e.ImportECPrivateKey(der, out _)),
                "ENCRYPTED PRIVATE KEY" => throw new NotSupportedException("Encrypted private keys are not supported"),
                _ => throw new FormatException("Unsupported PEM label: " + label),
            };
        }
        catch (CryptographicException ex)
        {
            throw new FormatException("Invalid private key: " + ex.Message, ex);
        }
        catch (AsnContentException ex)
        {
            throw new FormatException("Invalid private key: " + ex.Message, ex);
        }
    }

    private static RsaHostKey FromRsa(Action<RSA> import)
    {
        var rsa = RSA.Create();
        try
        {
            import(rsa);
            return new RsaHostKey(rsa);
        }
        catch
        {
            rsa.Dispose();
            throw;
        }
    }

    private static EcdsaHostKey FromEc(Action<ECDsa> import)
    {
        var ec = ECDsa.Create();
        try
        {
            import(ec);
            return new EcdsaHostKey(ec);
        }
        catch
        {
            ec.Dispose();
            throw;
        }
    }

    // RFC 5208 PrivateKeyInfo: SEQUENCE { version, AlgorithmIdentifier, OCTET STRING privateKey, ... }
    private static SshHostKey FromPkcs8(byte[] der)
    {
        var reader = new AsnReader(der, AsnEncodingRules.BER);
        var seq = reader.ReadSequence();
        seq.ReadInteger();
        var alg = seq.ReadSequence();
        var oid = alg.ReadObjectIdentifier();
        switch (oid)
        {
            case "1.2.840.113549.1.1.1":
                return FromRsa(r => r.ImportPkcs8PrivateKey(der, out _));
            case "1.2.840.10045.2.1":
                return FromEc(e => e.ImportPkcs8PrivateKey(der, out _));
            case "1.3.101.112":
            {
                // RFC 8410 §7: privateKey is an OCTET STRING wrapping CurvePrivateKey (another OCTET STRING of 32 bytes).
                var inner = new AsnReader(seq.ReadOctetString(), AsnEncodingRules.BER).ReadOctetString();
                if (inner.Length != 32)
                    throw new FormatException("Ed25519 private key must be 32 bytes");
                try
                {
                    return Ed25519HostKey.FromSeed(inner);
                }
                finally
                {
                    CryptographicOperations.ZeroMemory(inner);
                }
            }
            default:
                throw new NotSupportedException("Unsupported PKCS#8 key algorithm " + oid);
        }
    }

    /// <summary>
    /// RFC 6187: <paramref name="key"/> presented with its certificate chain (leaf first, the leaf certifying the key),
    /// e.g. a device's IDevID as its call-home host key. The algorithm follows the key: x509v3-ssh-ed25519,
    /// x509v3-ecdsa-sha2-nistp256 or x509v3-rsa2048-sha256. The result signs with <paramref name="key"/> and does not
    /// own it or the certificates.
    /// </summary>
    public static SshHostKey WithCertificateChain(SshHostKey key, IReadOnlyList<System.Security.Cryptography.X509Certificates.X509Certificate2> chain)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(chain);
        var algorithm = key.KeyType switch
        {
            SshKeyAlgorithms.Ed25519 => X509HostKey.Ed25519,
            SshKeyAlgorithms.EcdsaP256 => X509HostKey.EcdsaNistp256,
            SshKeyAlgorithms.Rsa => X509HostKey.Rsa2048Sha256,
            _ => throw new NotSupportedException($"No RFC 6187 host key algorithm for {key.KeyType}"),
        };
        return new X509CertificateHostKey(key, algorithm, chain);
    }

    /// <summary>Encodes this key as an unencrypted "openssh-key-v1" PEM, as ssh-keygen writes it.</summary>
    public string ToOpenSshPrivateKey(string comment = "") => OpenSshKeyFile.Write(this, comment ?? "");

    /// <summary>Signs <paramref name="data"/> and returns the SSH signature blob (string algorithm, string signature).</summary>
    public abstract byte[] Sign(string signatureAlgorithm, ReadOnlySpan<byte> data);

    /// <summary>K_S as the server sends it (RFC 4253 §8): the public key blob, or an RFC 6187 certificate blob.</summary>
    internal virtual byte[] HostKeyBlob => PublicKey.Blob;

    /// <summary>Writes the key-type specific private fields of PROTOCOL.key (after the key type string).</summary>
    internal abstract void WriteOpenSshPrivateFields(SshWriter writer);

    private protected void CheckAlgorithm(string signatureAlgorithm)
    {
        ArgumentNullException.ThrowIfNull(signatureAlgorithm);
        foreach (var a in SignatureAlgorithms)
        {
            if (a == signatureAlgorithm)
                return;
        }
        throw new ArgumentException($"Key type {KeyType} cannot sign with {signatureAlgorithm}", nameof(signatureAlgorithm));
    }

    private protected static byte[] SignatureBlob(string algorithm, ReadOnlySpan<byte> signature)
    {
        using var w = new SshWriter(signature.Length + 64);
        w.WriteString(algorithm);
        w.WriteString(signature);
        return w.ToArray();
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }

    public override string ToString() => PublicKey.ToString();

    internal static string Utf8(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);
}
