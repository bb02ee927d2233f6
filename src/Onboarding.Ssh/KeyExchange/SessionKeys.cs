using System.Security.Cryptography;
using Onboarding.Ssh.Transport;
using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.KeyExchange;

/// <summary>RFC 4253 §7.2 key derivation: HASH(K || H || letter || session_id), extended by HASH(K || H || K1 || ...).</summary>
internal sealed class SessionKeys(HashAlgorithmName hash, byte[] sharedSecret, byte[] exchangeHash, byte[] sessionId, NegotiatedAlgorithms algorithms)
{
    private readonly byte[] _k = sharedSecret.ToArray();

    internal byte[] Derive(char letter, int length)
    {
        if (length == 0)
            return [];
        using var w = new SshWriter(1024);
        w.WriteMpintUnsigned(_k);
        w.WriteRaw(exchangeHash);
        var kh = w.ToArray();
        w.WriteByte((byte)letter);
        w.WriteRaw(sessionId);
        var result = new List<byte>(CryptographicOperations.HashData(hash, w.WrittenSpan));
        while (result.Count < length)
        {
            using var more = new SshWriter(1024);
            more.WriteRaw(kh);
            more.WriteRaw(result.ToArray());
            result.AddRange(CryptographicOperations.HashData(hash, more.WrittenSpan));
        }
        return result.GetRange(0, length).ToArray();
    }

    public IPacketCipher ClientToServer() => Create('A', 'C', 'E', algorithms.CipherClientToServer, algorithms.MacClientToServer);

    public IPacketCipher ServerToClient() => Create('B', 'D', 'F', algorithms.CipherServerToClient, algorithms.MacServerToClient);

    private IPacketCipher Create(char ivLetter, char keyLetter, char macLetter, string cipher, string? mac)
    {
        var iv = Derive(ivLetter, PacketCipherFactory.IvLength(cipher));
        var key = Derive(keyLetter, PacketCipherFactory.KeyLength(cipher));
        var macKey = Derive(macLetter, PacketCipherFactory.MacKeyLength(cipher, mac));
        try
        {
            return PacketCipherFactory.Create(cipher, mac, key, iv, macKey);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
            CryptographicOperations.ZeroMemory(macKey);
        }
    }
}
