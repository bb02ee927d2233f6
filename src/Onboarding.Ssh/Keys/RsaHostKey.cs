using System.Security.Cryptography;
using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.Keys;

/// <summary>RSA with rsa-sha2-512 / rsa-sha2-256 signatures only (RFC 8332); SHA-1 "ssh-rsa" signatures are never produced.</summary>
internal sealed class RsaHostKey : SshHostKey
{
    private readonly RSA _rsa;

    public RsaHostKey(RSA rsa)
        : base(SshKeyAlgorithms.Rsa, PublicOf(rsa), [SshKeyAlgorithms.RsaSha512, SshKeyAlgorithms.RsaSha256])
    {
        _rsa = rsa;
    }

    public int KeySize => _rsa.KeySize;

    private static SshPublicKey PublicOf(RSA rsa)
    {
        var p = rsa.ExportParameters(false);
        return SshPublicKey.FromRsa(p.Modulus, p.Exponent);
    }

    public override byte[] Sign(string signatureAlgorithm, ReadOnlySpan<byte> data)
    {
        CheckAlgorithm(signatureAlgorithm);
        var hash = signatureAlgorithm == SshKeyAlgorithms.RsaSha512 ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256;
        var sig = _rsa.SignData(data.ToArray(), hash, RSASignaturePadding.Pkcs1);
        return SignatureBlob(signatureAlgorithm, sig);
    }

    // PROTOCOL.key: mpint n, mpint e, mpint d, mpint iqmp, mpint p, mpint q
    internal override void WriteOpenSshPrivateFields(SshWriter writer)
    {
        var p = _rsa.ExportParameters(true);
        try
        {
            writer.WriteMpintUnsigned(p.Modulus);
            writer.WriteMpintUnsigned(p.Exponent);
            writer.WriteMpintUnsigned(p.D);
            writer.WriteMpintUnsigned(p.InverseQ);
            writer.WriteMpintUnsigned(p.P);
            writer.WriteMpintUnsigned(p.Q);
        }
        finally
        {
            Clear(p);
        }
    }

    /// <summary>Builds the key from the PROTOCOL.key fields; DP/DQ are derived as d mod (p-1), d mod (q-1).</summary>
    public static RsaHostKey FromComponents(ReadOnlySpan<byte> n, ReadOnlySpan<byte> e, ReadOnlySpan<byte> d, ReadOnlySpan<byte> iqmp, ReadOnlySpan<byte> p, ReadOnlySpan<byte> q)
    {
        var bn = n.Length;
        var half = (bn + 1) / 2;
        var dBig = new System.Numerics.BigInteger(d, true, true);
        var pBig = new System.Numerics.BigInteger(p, true, true);
        var qBig = new System.Numerics.BigInteger(q, true, true);
        var parameters = new RSAParameters
        {
            Modulus = n.ToArray(),
            Exponent = e.ToArray(),
            D = Pad(d, bn),
            P = Pad(p, half),
            Q = Pad(q, half),
            DP = Pad((dBig % (pBig - 1)).ToByteArray(true, true), half),
            DQ = Pad((dBig % (qBig - 1)).ToByteArray(true, true), half),
            InverseQ = Pad(iqmp, half),
        };
        var rsa = RSA.Create();
        try
        {
            rsa.ImportParameters(parameters);
            return new RsaHostKey(rsa);
        }
        catch
        {
            rsa.Dispose();
            throw;
        }
        finally
        {
            Clear(parameters);
        }
    }

    private static byte[] Pad(ReadOnlySpan<byte> value, int length)
    {
        if (value.Length > length)
            throw new FormatException("RSA component is too large");
        var result = new byte[length];
        value.CopyTo(result.AsSpan(length - value.Length));
        return result;
    }

    private static void Clear(RSAParameters p)
    {
        foreach (var a in new[] { p.D, p.P, p.Q, p.DP, p.DQ, p.InverseQ })
        {
            if (a is not null)
                CryptographicOperations.ZeroMemory(a);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            _rsa.Dispose();
        base.Dispose(disposing);
    }
}
