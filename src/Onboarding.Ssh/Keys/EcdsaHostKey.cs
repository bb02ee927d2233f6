using System.Security.Cryptography;
using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.Keys;

/// <summary>ECDSA on the NIST curves (RFC 5656).</summary>
internal sealed class EcdsaHostKey : SshHostKey
{
    private readonly ECDsa _ecdsa;

    public EcdsaHostKey(ECDsa ecdsa)
        : this(ecdsa, SshPublicKey.FromEcdsa(ecdsa.ExportParameters(false)))
    {
    }

    private EcdsaHostKey(ECDsa ecdsa, SshPublicKey publicKey)
        : base(publicKey.KeyType, publicKey, [publicKey.KeyType])
    {
        _ecdsa = ecdsa;
    }

    public override byte[] Sign(string signatureAlgorithm, ReadOnlySpan<byte> data)
    {
        CheckAlgorithm(signatureAlgorithm);
        var p1363 = _ecdsa.SignData(data, SshPublicKey.EcdsaHash(KeyType), DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        var half = p1363.Length / 2;
        // RFC 5656 §3.1.2: the signature blob is (mpint r, mpint s).
        using var inner = new SshWriter(p1363.Length + 16);
        inner.WriteMpintUnsigned(p1363.AsSpan(0, half));
        inner.WriteMpintUnsigned(p1363.AsSpan(half));
        return SignatureBlob(signatureAlgorithm, inner.WrittenSpan);
    }

    // PROTOCOL.key: string curve, string Q, mpint d
    internal override void WriteOpenSshPrivateFields(SshWriter writer)
    {
        var p = _ecdsa.ExportParameters(true);
        try
        {
            var (_, curveName) = SshPublicKey.EcdsaName(p.Curve);
            writer.WriteString(curveName);
            var q = new byte[1 + p.Q.X!.Length + p.Q.Y!.Length];
            q[0] = 0x04;
            p.Q.X.CopyTo(q, 1);
            p.Q.Y.CopyTo(q, 1 + p.Q.X.Length);
            writer.WriteString(q);
            writer.WriteMpintUnsigned(p.D);
        }
        finally
        {
            if (p.D is not null)
                CryptographicOperations.ZeroMemory(p.D);
        }
    }

    public static EcdsaHostKey FromComponents(string keyType, ReadOnlySpan<byte> q, ReadOnlySpan<byte> d)
    {
        var (curve, _, fieldBytes) = SshPublicKey.EcdsaCurve(keyType);
        if (q.Length != 1 + (2 * fieldBytes) || q[0] != 0x04 || d.Length > fieldBytes)
            throw new FormatException("Invalid ECDSA private key");
        var dPadded = new byte[fieldBytes];
        d.CopyTo(dPadded.AsSpan(fieldBytes - d.Length));
        var parameters = new ECParameters
        {
            Curve = curve,
            D = dPadded,
            Q = new ECPoint { X = q.Slice(1, fieldBytes).ToArray(), Y = q.Slice(1 + fieldBytes, fieldBytes).ToArray() },
        };
        var ec = ECDsa.Create();
        try
        {
            ec.ImportParameters(parameters);
            return new EcdsaHostKey(ec);
        }
        catch
        {
            ec.Dispose();
            throw;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dPadded);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            _ecdsa.Dispose();
        base.Dispose(disposing);
    }
}
