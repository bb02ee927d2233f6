using System.Security.Cryptography;
using Onboarding.Ssh.Wire;
using BcEd25519 = Org.BouncyCastle.Math.EC.Rfc8032.Ed25519;

namespace Onboarding.Ssh.Keys;

/// <summary>
/// Ed25519 (RFC 8032, RFC 8709) via BouncyCastle's span functions: the message is signed where it lies (no copy),
/// with the public key passed in rather than derived again for every signature.
/// </summary>
internal sealed class Ed25519HostKey : SshHostKey
{
    private readonly byte[] _seed;
    private readonly byte[] _publicKey;

    private Ed25519HostKey(byte[] seed, byte[] publicKey)
        : base(SshKeyAlgorithms.Ed25519, SshPublicKey.FromEd25519(publicKey), [SshKeyAlgorithms.Ed25519])
    {
        _seed = seed;
        _publicKey = publicKey;
    }

    public static Ed25519HostKey Generate()
    {
        var seed = new byte[BcEd25519.SecretKeySize];
        RandomNumberGenerator.Fill(seed);
        return Create(seed);
    }

    public static Ed25519HostKey FromSeed(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != BcEd25519.SecretKeySize)
            throw new FormatException("Ed25519 seed must be 32 bytes");
        return Create(seed.ToArray());
    }

    private static Ed25519HostKey Create(byte[] seed)
    {
        var publicKey = new byte[BcEd25519.PublicKeySize];
        BcEd25519.GeneratePublicKey(seed, publicKey);
        return new Ed25519HostKey(seed, publicKey);
    }

    public override byte[] Sign(string signatureAlgorithm, ReadOnlySpan<byte> data)
    {
        CheckAlgorithm(signatureAlgorithm);
        var signature = new byte[BcEd25519.SignatureSize];
        // The cast picks the pure Ed25519 overload: a byte[] second argument would bind to Ed25519ctx's context.
        BcEd25519.Sign(_seed, (ReadOnlySpan<byte>)_publicKey, data, signature);
        return SignatureBlob(signatureAlgorithm, signature);
    }

    // PROTOCOL.key / RFC 8709: string pk(32), string sk(64 = seed || pk)
    internal override void WriteOpenSshPrivateFields(SshWriter writer)
    {
        writer.WriteString(_publicKey);
        var sk = new byte[64];
        try
        {
            _seed.CopyTo(sk, 0);
            _publicKey.CopyTo(sk, 32);
            writer.WriteString(sk);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(sk);
        }
    }

    protected override void Dispose(bool disposing)
    {
        CryptographicOperations.ZeroMemory(_seed);
        base.Dispose(disposing);
    }
}
