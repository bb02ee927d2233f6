using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Agreement;

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
