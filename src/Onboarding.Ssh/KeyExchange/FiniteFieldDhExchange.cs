using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Agreement;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace Onboarding.Ssh.KeyExchange;

/// <summary>RFC 8268 diffie-hellman-group14-sha256 / group16-sha512 (RFC 3526 groups) via BouncyCastle.</summary>
internal sealed class FiniteFieldDhExchange : KeyExchangeMethod
{
    private readonly DHParameters _group;
    private readonly AsymmetricKeyPairHolder _pair;

    public FiniteFieldDhExchange(DHParameters group, HashAlgorithmName hash)
    {
        _group = group;
        Hash = hash;
        var generator = new DHKeyPairGenerator();
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
