using System.Security.Cryptography;
using Onboarding.Ssh.Wire;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Security;

namespace Onboarding.Ssh.Keys;

/// <summary>Ed25519 (RFC 8032, RFC 8709) via BouncyCastle.</summary>
internal sealed class Ed25519HostKey : SshHostKey
{
    private readonly Ed25519PrivateKeyParameters _key;
    private readonly byte[] _publicKey;

    private Ed25519HostKey(Ed25519PrivateKeyParameters key, byte[] publicKey)
        : base(SshKeyAlgorithms.Ed25519, SshPublicKey.FromEd25519(publicKey), [SshKeyAlgorithms.Ed25519])
    {
        _key = key;
        _publicKey = publicKey;
    }

    public static Ed25519HostKey Generate() => Create(new Ed25519PrivateKeyParameters(new SecureRandom()));

    public static Ed25519HostKey FromSeed(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != 32)
            throw new FormatException("Ed25519 seed must be 32 bytes");
        var copy = seed.ToArray();
        try
        {
            return Create(new Ed25519PrivateKeyParameters(copy, 0));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(copy);
        }
    }

    private static Ed25519HostKey Create(Ed25519PrivateKeyParameters key) => new(key, key.GeneratePublicKey().GetEncoded());

    public override byte[] Sign(string signatureAlgorithm, ReadOnlySpan<byte> data)
    {
        CheckAlgorithm(signatureAlgorithm);
        var signer = new Ed25519Signer();
        signer.Init(true, _key);
        var msg = data.ToArray();
        signer.BlockUpdate(msg, 0, msg.Length);
        return SignatureBlob(signatureAlgorithm, signer.GenerateSignature());
    }

    // PROTOCOL.key / RFC 8709: string pk(32), string sk(64 = seed || pk)
    internal override void WriteOpenSshPrivateFields(SshWriter writer)
    {
        writer.WriteString(_publicKey);
        var sk = new byte[64];
        try
        {
            _key.Encode(sk, 0);
            _publicKey.CopyTo(sk, 32);
            writer.WriteString(sk);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(sk);
        }
    }
}
