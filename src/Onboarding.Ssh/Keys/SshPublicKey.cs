using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.Keys;

/// <summary>An SSH public key in its RFC 4253 §6.6 blob form, with signature verification.</summary>
public sealed class SshPublicKey : IEquatable<SshPublicKey>
{
    private readonly byte[] _blob;

    // Parsed components; which are set depends on the key type.
    private readonly byte[]? _ed25519;          // 32-byte public point
    private readonly RSAParameters _rsa;        // modulus + exponent
    private readonly ECParameters _ec;          // curve + Q

    private SshPublicKey(string keyType, byte[] blob, byte[]? ed25519, RSAParameters rsa, ECParameters ec)
    {
        KeyType = keyType;
        _blob = blob;
        _ed25519 = ed25519;
        _rsa = rsa;
        _ec = ec;
    }

    /// <summary>Key type: "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256/384/521".</summary>
    public string KeyType { get; }

    /// <summary>The RFC 4253 §6.6 public key blob (a copy).</summary>
    public byte[] Blob => (byte[])_blob.Clone();

    internal ReadOnlySpan<byte> BlobSpan => _blob;

    /// <summary>RSA modulus size in bits (0 for other key types).</summary>
    public int RsaBits => _rsa.Modulus is null ? 0 : BitLength(_rsa.Modulus);

    /// <summary>"SHA256:" + unpadded base64 of SHA-256(blob), as printed by <c>ssh-keygen -lf</c>.</summary>
    public string Fingerprint => "SHA256:" + Convert.ToBase64String(SHA256.HashData(_blob)).TrimEnd('=');

    /// <summary>Parses a public key blob; refuses unknown key types and trailing bytes.</summary>
    public static SshPublicKey Parse(ReadOnlySpan<byte> blob)
    {
        var r = new SshReader(blob, 16 * 1024);
        var keyType = r.ReadAscii();
        switch (keyType)
        {
            case SshKeyAlgorithms.Ed25519:
            {
                // RFC 8709 §4: string "ssh-ed25519", string key (32 bytes)
                var pk = r.ReadString();
                if (pk.Length != 32)
                    throw Bad("ed25519 public key must be 32 bytes");
                r.EnsureEnd();
                return new SshPublicKey(keyType, blob.ToArray(), pk.ToArray(), default, default);
            }
            case SshKeyAlgorithms.Rsa:
            {
                // RFC 4253 §6.6: string "ssh-rsa", mpint e, mpint n
                var e = r.ReadMpintUnsigned();
                var n = r.ReadMpintUnsigned();
                r.EnsureEnd();
                if (n.Length == 0 || e.Length == 0 || e.Length > 8 || n.Length > 2048)
                    throw Bad("unsupported RSA public key");
                return new SshPublicKey(keyType, blob.ToArray(), null, new RSAParameters { Modulus = n.ToArray(), Exponent = e.ToArray() }, default);
            }
            case SshKeyAlgorithms.EcdsaP256 or SshKeyAlgorithms.EcdsaP384 or SshKeyAlgorithms.EcdsaP521:
            {
                // RFC 5656 §3.1: string type, string curve identifier, string Q (SEC1 uncompressed point)
                var curveName = r.ReadAscii();
                var q = r.ReadString();
                r.EnsureEnd();
                var (curve, expectedName, fieldBytes) = EcdsaCurve(keyType);
                if (curveName != expectedName)
                    throw Bad("ECDSA curve identifier does not match the key type");
                if (q.Length != 1 + (2 * fieldBytes) || q[0] != 0x04)
                    throw Bad("ECDSA point must be uncompressed");
                var ec = new ECParameters
                {
                    Curve = curve,
                    Q = new ECPoint { X = q.Slice(1, fieldBytes).ToArray(), Y = q.Slice(1 + fieldBytes, fieldBytes).ToArray() },
                };
                try
                {
                    // Validate that the point is on the curve now rather than at first use.
                    using var probe = ECDsa.Create(ec);
                }
                catch (CryptographicException)
                {
                    throw Bad("ECDSA point is not on the curve");
                }
                return new SshPublicKey(keyType, blob.ToArray(), null, default, ec);
            }
            default:
                throw new SshProtocolException(SshDisconnectReason.KeyExchangeFailed, "Unsupported public key type");
        }
    }

    /// <summary>Parses one authorized_keys line ("[options] type base64 [comment]", sshd(8) AUTHORIZED_KEYS FILE FORMAT).</summary>
    public static SshPublicKey ParseAuthorizedKeysLine(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var text = line.Trim();
        if (text.Length == 0 || text[0] == '#')
            throw new FormatException("Not a key line");
        var tokens = Tokenise(text);
        var i = 0;
        if (!SshKeyAlgorithms.IsKnownKeyType(tokens[0]))
            i = 1; // the first token is the options field
        if (i + 1 >= tokens.Count || !SshKeyAlgorithms.IsKnownKeyType(tokens[i]))
            throw new FormatException("No supported key type in the line");
        byte[] blob;
        try
        {
            blob = Convert.FromBase64String(tokens[i + 1]);
        }
        catch (FormatException)
        {
            throw new FormatException("Key is not valid base64");
        }
        SshPublicKey key;
        try
        {
            key = Parse(blob);
        }
        catch (SshProtocolException ex)
        {
            throw new FormatException(ex.Message, ex);
        }
        if (key.KeyType != tokens[i])
            throw new FormatException("Key type does not match the key blob");
        return key;
    }

    // Splits on whitespace, keeping double-quoted runs (options may contain quoted spaces) together.
    private static List<string> Tokenise(string text)
    {
        var tokens = new List<string>();
        var current = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\\' && quoted && i + 1 < text.Length)
            {
                current.Append(c).Append(text[++i]);
                continue;
            }
            if (c == '"')
                quoted = !quoted;
            if (!quoted && char.IsWhiteSpace(c))
            {
                if (current.Length > 0)
                {
                    tokens.Add(current.ToString());
                    current.Clear();
                }
                continue;
            }
            current.Append(c);
        }
        if (current.Length > 0)
            tokens.Add(current.ToString());
        return tokens;
    }

    /// <summary>"type base64 [comment]".</summary>
    public string ToAuthorizedKeysLine(string? comment = null)
    {
        var line = KeyType + " " + Convert.ToBase64String(_blob);
        return string.IsNullOrEmpty(comment) ? line : line + " " + comment;
    }

    /// <summary>
    /// Verifies an SSH signature blob (string algorithm, string signature) over <paramref name="data"/>.
    /// The algorithm must belong to this key type; "ssh-rsa" (SHA-1) is refused, as are RSA keys below 2048 bits.
    /// Returns false for any malformed or non-matching signature.
    /// </summary>
    public bool Verify(ReadOnlySpan<byte> signatureBlob, ReadOnlySpan<byte> data)
    {
        string algorithm;
        ReadOnlySpan<byte> sig;
        try
        {
            var r = new SshReader(signatureBlob, 16 * 1024);
            algorithm = r.ReadAscii();
            sig = r.ReadString();
            r.EnsureEnd();
        }
        catch (SshProtocolException)
        {
            return false;
        }
        if (SshKeyAlgorithms.KeyTypeForSignature(algorithm) != KeyType)
            return false;
        try
        {
            return VerifyCore(algorithm, sig, data);
        }
        catch (CryptographicException)
        {
            // A key the platform refuses (odd RSA parameters) cannot have made a valid signature.
            return false;
        }
    }

    private bool VerifyCore(string algorithm, ReadOnlySpan<byte> sig, ReadOnlySpan<byte> data)
    {
        switch (KeyType)
        {
            case SshKeyAlgorithms.Ed25519:
            {
                if (sig.Length != 64)
                    return false;
                // BouncyCastle's span overload: no copy of the signed data or the signature.
                return Org.BouncyCastle.Math.EC.Rfc8032.Ed25519.Verify(sig, _ed25519, data);
            }
            case SshKeyAlgorithms.Rsa:
            {
                if (RsaBits < SshKeyAlgorithms.MinRsaVerifyBits)
                    return false;
                // RFC 8332 §3 wants the signature as long as the modulus; like OpenSSH we accept a shorter
                // one (an encoder that dropped leading zero bytes) by left-padding it, and refuse a longer one.
                var modulusLength = _rsa.Modulus!.Length;
                if (sig.Length > modulusLength || sig.Length == 0)
                    return false;
                var padded = new byte[modulusLength];
                sig.CopyTo(padded.AsSpan(modulusLength - sig.Length));
                using var rsa = RSA.Create(_rsa);
                var hash = algorithm == SshKeyAlgorithms.RsaSha512 ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256;
                return rsa.VerifyData(data, padded, hash, RSASignaturePadding.Pkcs1);
            }
            default:
            {
                // RFC 5656 §3.1.2: signature = mpint r, mpint s
                var (_, _, fieldBytes) = EcdsaCurve(KeyType);
                Span<byte> p1363 = stackalloc byte[2 * fieldBytes];
                try
                {
                    var r = new SshReader(sig, 1024);
                    var rr = r.ReadMpintUnsigned();
                    var ss = r.ReadMpintUnsigned();
                    r.EnsureEnd();
                    if (rr.Length > fieldBytes || ss.Length > fieldBytes)
                        return false;
                    rr.CopyTo(p1363[(fieldBytes - rr.Length)..fieldBytes]);
                    ss.CopyTo(p1363[(2 * fieldBytes - ss.Length)..]);
                }
                catch (SshProtocolException)
                {
                    return false;
                }
                using var ecdsa = ECDsa.Create(_ec);
                return ecdsa.VerifyData(data, p1363, EcdsaHash(KeyType), DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
            }
        }
    }

    /// <summary>The SSH public key of an X.509 certificate's subject key (RSA, ECDSA P-256/384/521, Ed25519).</summary>
    public static SshPublicKey FromCertificate(X509Certificate2 cert)
    {
        ArgumentNullException.ThrowIfNull(cert);
        using (var rsa = cert.GetRSAPublicKey())
        {
            if (rsa is not null)
            {
                var p = rsa.ExportParameters(false);
                return FromRsa(p.Modulus!, p.Exponent!);
            }
        }
        using (var ec = cert.GetECDsaPublicKey())
        {
            if (ec is not null)
                return FromEcdsa(ec.ExportParameters(false));
        }
        // RFC 8410: id-Ed25519 = 1.3.101.112; the subjectPublicKey BIT STRING holds the 32-byte key.
        if (cert.PublicKey.Oid.Value == "1.3.101.112")
        {
            var raw = cert.PublicKey.EncodedKeyValue.RawData;
            if (raw.Length != 32)
                throw new CryptographicException("Ed25519 certificate key must be 32 bytes");
            return FromEd25519(raw);
        }
        throw new NotSupportedException("Certificate key algorithm is not supported for SSH");
    }

    internal static SshPublicKey FromEd25519(ReadOnlySpan<byte> publicKey)
    {
        using var w = new SshWriter();
        w.WriteString(SshKeyAlgorithms.Ed25519);
        w.WriteString(publicKey);
        return Parse(w.WrittenSpan);
    }

    internal static SshPublicKey FromRsa(ReadOnlySpan<byte> modulus, ReadOnlySpan<byte> exponent)
    {
        using var w = new SshWriter();
        w.WriteString(SshKeyAlgorithms.Rsa);
        w.WriteMpintUnsigned(exponent);
        w.WriteMpintUnsigned(modulus);
        return Parse(w.WrittenSpan);
    }

    internal static SshPublicKey FromEcdsa(ECParameters p)
    {
        var (keyType, curveName) = EcdsaName(p.Curve);
        using var w = new SshWriter();
        w.WriteString(keyType);
        w.WriteString(curveName);
        var q = new byte[1 + p.Q.X!.Length + p.Q.Y!.Length];
        q[0] = 0x04;
        p.Q.X.CopyTo(q, 1);
        p.Q.Y.CopyTo(q, 1 + p.Q.X.Length);
        w.WriteString(q);
        return Parse(w.WrittenSpan);
    }

    internal static (string KeyType, string CurveName) EcdsaName(ECCurve curve)
    {
        var oid = curve.Oid?.Value;
        var name = curve.Oid?.FriendlyName;
        if (oid == "1.2.840.10045.3.1.7" || name is "nistP256" or "ECDSA_P256" or "prime256v1" or "secp256r1")
            return (SshKeyAlgorithms.EcdsaP256, "nistp256");
        if (oid == "1.3.132.0.34" || name is "nistP384" or "ECDSA_P384" or "secp384r1")
            return (SshKeyAlgorithms.EcdsaP384, "nistp384");
        if (oid == "1.3.132.0.35" || name is "nistP521" or "ECDSA_P521" or "secp521r1")
            return (SshKeyAlgorithms.EcdsaP521, "nistp521");
        throw new NotSupportedException("ECDSA curve is not supported for SSH");
    }

    internal static (ECCurve Curve, string CurveName, int FieldBytes) EcdsaCurve(string keyType) => keyType switch
    {
        SshKeyAlgorithms.EcdsaP256 => (ECCurve.NamedCurves.nistP256, "nistp256", 32),
        SshKeyAlgorithms.EcdsaP384 => (ECCurve.NamedCurves.nistP384, "nistp384", 48),
        SshKeyAlgorithms.EcdsaP521 => (ECCurve.NamedCurves.nistP521, "nistp521", 66),
        _ => throw new ArgumentOutOfRangeException(nameof(keyType)),
    };

    /// <summary>RFC 5656 §6.2.1: the hash follows the curve size.</summary>
    internal static HashAlgorithmName EcdsaHash(string keyType) => keyType switch
    {
        SshKeyAlgorithms.EcdsaP256 => HashAlgorithmName.SHA256,
        SshKeyAlgorithms.EcdsaP384 => HashAlgorithmName.SHA384,
        _ => HashAlgorithmName.SHA512,
    };

    private static int BitLength(byte[] magnitude) =>
        (int)new BigInteger(magnitude, isUnsigned: true, isBigEndian: true).GetBitLength();

    private static SshProtocolException Bad(string message) => new(SshDisconnectReason.KeyExchangeFailed, message);

    /// <summary>Two keys are equal when their blobs are byte-for-byte equal.</summary>
    public bool Equals(SshPublicKey? other) => other is not null && _blob.AsSpan().SequenceEqual(other._blob);

    public override bool Equals(object? obj) => Equals(obj as SshPublicKey);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(_blob);
        return hash.ToHashCode();
    }

    public override string ToString() => KeyType + " " + Fingerprint;
}
