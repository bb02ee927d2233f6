using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Agreement;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace Onboarding.Ssh.KeyExchange;

/// <summary>One ephemeral key agreement: our public value, then the shared secret K from the peer's value.</summary>
internal abstract class KeyExchangeMethod : IDisposable
{
    public const string Curve25519Sha256 = "curve25519-sha256";
    public const string Curve25519Sha256Libssh = "curve25519-sha256@libssh.org";
    public const string EcdhNistp256 = "ecdh-sha2-nistp256";
    public const string DhGroup14Sha256 = "diffie-hellman-group14-sha256";
    public const string DhGroup16Sha512 = "diffie-hellman-group16-sha512";

    public static bool IsSupported(string name) => name is Curve25519Sha256 or Curve25519Sha256Libssh or EcdhNistp256 or DhGroup14Sha256 or DhGroup16Sha512;

    public static KeyExchangeMethod Create(string name) => name switch
    {
        Curve25519Sha256 or Curve25519Sha256Libssh => new Curve25519Exchange(),
        EcdhNistp256 => new EcdhNistP256Exchange(),
        DhGroup14Sha256 => new FiniteFieldDhExchange(DHStandardGroups.rfc3526_2048, HashAlgorithmName.SHA256),
        DhGroup16Sha512 => new FiniteFieldDhExchange(DHStandardGroups.rfc3526_4096, HashAlgorithmName.SHA512),
        _ => throw new SshProtocolException(SshDisconnectReason.KeyExchangeFailed, "Unsupported key exchange " + name),
    };

    public abstract HashAlgorithmName Hash { get; }

    /// <summary>Finite-field DH sends e/f as mpint (RFC 4253 §8); the elliptic methods as strings.</summary>
    public virtual bool UsesMpint => false;

    /// <summary>Our ephemeral public value (Q or the magnitude of e/f).</summary>
    public abstract byte[] PublicValue { get; }

    /// <summary>The shared secret K as an unsigned big-endian magnitude (encoded as mpint in the hash).</summary>
    public abstract byte[] Agree(ReadOnlySpan<byte> peerPublic);

    public virtual void Dispose()
    {
    }

    protected static SshProtocolException Invalid(string what) => new(SshDisconnectReason.KeyExchangeFailed, what);
}

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

/// <summary>RFC 8268 diffie-hellman-group14-sha256 / group16-sha512 (RFC 3526 groups) via BouncyCastle.</summary>
internal sealed class FiniteFieldDhExchange : KeyExchangeMethod
{
    private readonly DHParameters _group;
    private readonly AsymmetricKeyPairHolder _pair;

    public FiniteFieldDhExchange(DHParameters group, HashAlgorithmName hash)
    {
        _group = group;
        Hash = hash;
        var generator = new DHBasicKeyPairGenerator();
        generator.Init(new DHKeyGenerationParameters(new SecureRandom(), group));
        var pair = generator.GenerateKeyPair();
        _pair = new AsymmetricKeyPairHolder((DHPrivateKeyParameters)pair.Private, (DHPublicKeyParameters)pair.Public);
    }

    private sealed record AsymmetricKeyPairHolder(DHPrivateKeyParameters Private, DHPublicKeyParameters Public);

    public override HashAlgorithmName Hash { get; }
    public override bool UsesMpint => true;
    public override byte[] PublicValue => _pair.Public.Y.ToByteArrayUnsigned();

    public override byte[] Agree(ReadOnlySpan<byte> peerPublic)
    {
        var y = new BcBigInteger(1, peerPublic.ToArray());
        // RFC 4253 §8 / RFC 8268 §4: 1 < e,f < p-1.
        if (y.CompareTo(BcBigInteger.One) <= 0 || y.CompareTo(_group.P.Subtract(BcBigInteger.One)) >= 0)
            throw Invalid("DH public value out of range");
        var agreement = new DHBasicAgreement();
        agreement.Init(_pair.Private);
        return agreement.CalculateAgreement(new DHPublicKeyParameters(y, _group)).ToByteArrayUnsigned();
    }
}
