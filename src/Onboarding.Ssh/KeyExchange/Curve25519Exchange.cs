using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Agreement;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace Onboarding.Ssh.KeyExchange;

/// <summary>RFC 8731 curve25519-sha256 with BouncyCastle X25519 (RFC 7748).</summary>
internal sealed class Curve25519Exchange : KeyExchangeMethod
{
    private readonly X25519PrivateKeyParameters _private;

    public Curve25519Exchange()
    {
        _private = new X25519PrivateKeyParameters(new SecureRandom());
    }

    /// <summary>For RFC 7748 test vectors only.</summary>
    internal Curve25519Exchange(byte[] privateKey)
    {
        _private = new X25519PrivateKeyParameters(privateKey, 0);
    }

    public override HashAlgorithmName Hash => HashAlgorithmName.SHA256;

    public override byte[] PublicValue => _private.GeneratePublicKey().GetEncoded();

    public override byte[] Agree(ReadOnlySpan<byte> peerPublic)
    {
        if (peerPublic.Length != 32)
            throw Invalid("X25519 public key must be 32 bytes");
        var agreement = new X25519Agreement();
        agreement.Init(_private);
        var secret = new byte[32];
        try
        {
            agreement.CalculateAgreement(new X25519PublicKeyParameters(peerPublic.ToArray(), 0), secret, 0);
        }
        catch (InvalidOperationException)
        {
            // BouncyCastle refuses a zero result (low-order point) this way.
            throw Invalid("X25519 shared secret is zero");
        }
        // RFC 8731 §3: an all-zero shared secret must be refused.
        var zero = 0;
        foreach (var b in secret)
            zero |= b;
        if (zero == 0)
            throw Invalid("X25519 shared secret is zero");
        // RFC 8731 §3.1: the 32 bytes are taken as a big-endian integer and encoded as mpint.
        return secret;
    }
}
