using System.Security.Cryptography;

namespace Onboarding.Ssh.KeyExchange;

/// <summary>RFC 5656 ecdh-sha2-nistp256 using .NET's ECDiffieHellman.</summary>
internal sealed class EcdhNistP256Exchange : KeyExchangeMethod
{
    private readonly ECDiffieHellman _ecdh = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);

    public override HashAlgorithmName Hash => HashAlgorithmName.SHA256;

    public override byte[] PublicValue
    {
        get
        {
            var q = _ecdh.ExportParameters(false).Q;
            return [0x04, .. q.X!, .. q.Y!];
        }
    }

    public override byte[] Agree(ReadOnlySpan<byte> peerPublic)
    {
        if (peerPublic.Length != 65 || peerPublic[0] != 0x04)
            throw Invalid("P-256 public key must be an uncompressed point");
        try
        {
            using var peer = ECDiffieHellman.Create(new ECParameters
            {
                Curve = ECCurve.NamedCurves.nistP256,
                Q = new ECPoint { X = peerPublic.Slice(1, 32).ToArray(), Y = peerPublic.Slice(33, 32).ToArray() },
            });
            // RFC 5656 §4: K is the x-coordinate of the shared point.
            return _ecdh.DeriveRawSecretAgreement(peer.PublicKey);
        }
        catch (CryptographicException)
        {
            throw Invalid("P-256 public key is not on the curve");
        }
    }

    public override void Dispose()
    {
        _ecdh.Dispose();
        base.Dispose();
    }
}
