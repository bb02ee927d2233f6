using System.Security.Cryptography;
using Org.BouncyCastle.Math.EC.Rfc7748;

namespace Onboarding.Ssh.KeyExchange;

/// <summary>
/// RFC 8731 curve25519-sha256 with BouncyCastle's RFC 7748 X25519 span functions: no key-parameter objects
/// and no copies of the peer's value, and our public value is computed once (the transport reads it twice).
/// </summary>
internal sealed class Curve25519Exchange : KeyExchangeMethod
{
    private readonly byte[] _private = new byte[X25519.ScalarSize];
    private readonly byte[] _public = new byte[X25519.PointSize];

    public Curve25519Exchange()
    {
        RandomNumberGenerator.Fill(_private);
        X25519.ClampPrivateKey(_private);
        X25519.ScalarMultBase(_private, _public);
    }

    /// <summary>For RFC 7748 test vectors only.</summary>
    internal Curve25519Exchange(byte[] privateKey)
    {
        privateKey.AsSpan(0, X25519.ScalarSize).CopyTo(_private);
        // RFC 7748 §5: the scalar is clamped when decoded; ScalarMultBase does so too.
        X25519.ScalarMultBase(_private, _public);
    }

    public override HashAlgorithmName Hash => HashAlgorithmName.SHA256;

    public override byte[] PublicValue => _public;

    public override byte[] Agree(ReadOnlySpan<byte> peerPublic)
    {
        if (peerPublic.Length != X25519.PointSize)
            throw Invalid("X25519 public key must be 32 bytes");
        var secret = new byte[X25519.PointSize];
        // RFC 8731 §3: an all-zero shared secret (a low-order peer point) must be refused; this returns false then.
        if (!X25519.CalculateAgreement(_private, peerPublic, secret))
            throw Invalid("X25519 shared secret is zero");
        // RFC 8731 §3.1: the 32 bytes are taken as a big-endian integer and encoded as mpint.
        return secret;
    }

    public override void Dispose()
    {
        CryptographicOperations.ZeroMemory(_private);
        base.Dispose();
    }
}
