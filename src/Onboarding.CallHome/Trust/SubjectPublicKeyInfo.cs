using System.Buffers.Binary;
using System.Security.Cryptography;
using Onboarding.Ssh.Keys;

namespace Onboarding.CallHome.Trust;

/// <summary>
/// The X.509 SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) of an SSH public key, so a plain SSH host key can be matched
/// against the key of a bookkept IDevID certificate (<c>IDeviceDirectory.FindByPublicKeySha256Async</c>). The
/// encodings are the canonical ones certificates carry: rsaEncryption with NULL parameters (RFC 3279 §2.3.1),
/// id-ecPublicKey with a named curve and an uncompressed point (RFC 5480 §2), id-Ed25519 (RFC 8410 §4).
/// </summary>
internal static class SubjectPublicKeyInfo
{
    // RFC 4253 §6.6, RFC 5656 §3, RFC 8709 §4 key type names.
    private const string Ed25519 = "ssh-ed25519";
    private const string Rsa = "ssh-rsa";
    private const string EcdsaP256 = "ecdsa-sha2-nistp256";
    private const string EcdsaP384 = "ecdsa-sha2-nistp384";
    private const string EcdsaP521 = "ecdsa-sha2-nistp521";

    // RFC 8410 §4: SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING (0 unused bits) } before the 32 key bytes.
    private static readonly byte[] Ed25519Prefix = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];

    /// <summary>Lower-case hex SHA-256 of the DER SubjectPublicKeyInfo, or null for a key type certificates here do not carry.</summary>
    public static string? Sha256Hex(SshPublicKey key)
    {
        var der = Encode(key);
        return der is null ? null : Convert.ToHexStringLower(SHA256.HashData(der));
    }

    public static byte[]? Encode(SshPublicKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var fields = SplitBlob(key.Blob);
        switch (key.KeyType)
        {
            case Ed25519 when fields.Count == 2 && fields[1].Length == 32:
                return [.. Ed25519Prefix, .. fields[1]];
            case Rsa when fields.Count == 3:
            {
                // RFC 4253 §6.6: e then n, as mpints (a leading zero keeps them positive).
                using var rsa = RSA.Create();
                rsa.ImportParameters(new RSAParameters { Exponent = Unsigned(fields[1]), Modulus = Unsigned(fields[2]) });
                return rsa.ExportSubjectPublicKeyInfo();
            }
            case EcdsaP256 or EcdsaP384 or EcdsaP521 when fields.Count == 3:
            {
                var curve = key.KeyType switch
                {
                    EcdsaP256 => ECCurve.NamedCurves.nistP256,
                    EcdsaP384 => ECCurve.NamedCurves.nistP384,
                    _ => ECCurve.NamedCurves.nistP521,
                };
                var q = fields[2];
                var size = (q.Length - 1) / 2;
                using var ecdsa = ECDsa.Create(new ECParameters
                {
                    Curve = curve,
                    Q = new ECPoint { X = q[1..(1 + size)], Y = q[(1 + size)..] },
                });
                return ecdsa.ExportSubjectPublicKeyInfo();
            }
            default:
                return null;
        }
    }

    /// <summary>The blob's length-prefixed strings (RFC 4251 §5); <see cref="SshPublicKey"/> has already validated it.</summary>
    private static List<byte[]> SplitBlob(byte[] blob)
    {
        var fields = new List<byte[]>();
        var offset = 0;
        while (offset + 4 <= blob.Length)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(blob.AsSpan(offset));
            offset += 4;
            if (length < 0 || length > blob.Length - offset)
                break;
            fields.Add(blob[offset..(offset + length)]);
            offset += length;
        }

        return fields;
    }

    private static byte[] Unsigned(byte[] mpint) => mpint.Length > 1 && mpint[0] == 0 ? mpint[1..] : mpint;
}
