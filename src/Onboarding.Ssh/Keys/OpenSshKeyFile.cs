using System.Security.Cryptography;
using System.Text;
using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.Keys;

/// <summary>
/// The OpenSSH private key format "openssh-key-v1" (OpenSSH PROTOCOL.key), unencrypted only:
/// "openssh-key-v1\0", string cipher "none", string kdf "none", string kdfoptions "", uint32 1,
/// string public key, string private section (checkint ×2, key, comment, padding 1,2,3… to 8).
/// </summary>
internal static class OpenSshKeyFile
{
    private const string Begin = "-----BEGIN OPENSSH PRIVATE KEY-----";
    private const string End = "-----END OPENSSH PRIVATE KEY-----";
    private static readonly byte[] Magic = "openssh-key-v1\0"u8.ToArray();

    public static string Write(SshHostKey key, string comment)
    {
        using var priv = new SshWriter(4096);
        var check = (uint)RandomNumberGenerator.GetInt32(int.MinValue, int.MaxValue);
        priv.WriteUInt32(check);
        priv.WriteUInt32(check);
        priv.WriteString(key.KeyType);
        key.WriteOpenSshPrivateFields(priv);
        priv.WriteString(comment);
        // The private section is padded to the cipher block size (8 for "none") with 1, 2, 3, ...
        for (byte pad = 1; priv.Length % 8 != 0; pad++)
            priv.WriteByte(pad);

        using var file = new SshWriter(priv.Length + 512);
        file.WriteRaw(Magic);
        file.WriteString("none");
        file.WriteString("none");
        file.WriteString(ReadOnlySpan<byte>.Empty);
        file.WriteUInt32(1);
        file.WriteString(key.PublicKey.BlobSpan);
        file.WriteString(priv.WrittenSpan);

        var b64 = Convert.ToBase64String(file.WrittenSpan);
        var sb = new StringBuilder(b64.Length + 128);
        sb.Append(Begin).Append('\n');
        // ssh-keygen wraps the body at 70 columns.
        for (var i = 0; i < b64.Length; i += 70)
            sb.Append(b64, i, Math.Min(70, b64.Length - i)).Append('\n');
        sb.Append(End).Append('\n');
        return sb.ToString();
    }

    public static SshHostKey Read(string text)
    {
        var start = text.IndexOf(Begin, StringComparison.Ordinal) + Begin.Length;
        var end = text.IndexOf(End, start, StringComparison.Ordinal);
        if (end < 0)
            throw new FormatException("Missing END OPENSSH PRIVATE KEY line");
        byte[] data;
        try
        {
            data = Convert.FromBase64String(text[start..end]);
        }
        catch (FormatException)
        {
            throw new FormatException("OpenSSH private key body is not valid base64");
        }
        try
        {
            return Parse(data);
        }
        catch (SshProtocolException ex)
        {
            throw new FormatException("Malformed OpenSSH private key: " + ex.Message, ex);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(data);
        }
    }

    private static SshHostKey Parse(ReadOnlySpan<byte> data)
    {
        if (!data.StartsWith(Magic))
            throw new FormatException("Not an openssh-key-v1 key");
        var r = new SshReader(data[Magic.Length..], 64 * 1024);
        var cipher = r.ReadAscii();
        var kdf = r.ReadAscii();
        r.ReadString();
        if (cipher != "none" || kdf != "none")
            throw new NotSupportedException("Encrypted OpenSSH private keys are not supported");
        if (r.ReadUInt32() != 1)
            throw new FormatException("Only single-key files are supported");
        var publicBlob = r.ReadString();
        var priv = r.ReadString();
        r.EnsureEnd();

        var p = new SshReader(priv, 64 * 1024);
        if (p.ReadUInt32() != p.ReadUInt32())
            throw new FormatException("Private key check values differ (wrong passphrase or corrupt file)");
        var keyType = p.ReadAscii();
        SshHostKey key = keyType switch
        {
            SshKeyAlgorithms.Ed25519 => ReadEd25519(ref p),
            SshKeyAlgorithms.Rsa => RsaHostKey.FromComponents(p.ReadMpintUnsigned(), p.ReadMpintUnsigned(), p.ReadMpintUnsigned(), p.ReadMpintUnsigned(), p.ReadMpintUnsigned(), p.ReadMpintUnsigned()),
            SshKeyAlgorithms.EcdsaP256 or SshKeyAlgorithms.EcdsaP384 or SshKeyAlgorithms.EcdsaP521 => ReadEcdsa(ref p, keyType),
            _ => throw new NotSupportedException("Unsupported private key type " + keyType),
        };
        try
        {
            p.ReadString(); // comment
            for (byte expected = 1; !p.AtEnd; expected++)
            {
                if (p.ReadByte() != expected)
                    throw new FormatException("Bad private section padding");
            }
            if (!key.PublicKey.BlobSpan.SequenceEqual(publicBlob))
                throw new FormatException("Public key does not match the private key");
            return key;
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    private static Ed25519HostKey ReadEd25519(ref SshReader p)
    {
        var pk = p.ReadString();
        var sk = p.ReadString();
        if (pk.Length != 32 || sk.Length != 64 || !sk[32..].SequenceEqual(pk))
            throw new FormatException("Invalid ed25519 private key");
        var key = Ed25519HostKey.FromSeed(sk[..32]);
        if (!key.PublicKey.BlobSpan.EndsWith(pk))
        {
            key.Dispose();
            throw new FormatException("Ed25519 public key does not match the seed");
        }
        return key;
    }

    private static EcdsaHostKey ReadEcdsa(ref SshReader p, string keyType)
    {
        var curve = p.ReadAscii();
        var (_, expectedCurve, _) = SshPublicKey.EcdsaCurve(keyType);
        if (curve != expectedCurve)
            throw new FormatException("ECDSA curve does not match key type");
        var q = p.ReadString();
        var d = p.ReadMpintUnsigned();
        return EcdsaHostKey.FromComponents(keyType, q, d);
    }
}
