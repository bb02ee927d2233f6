using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Onboarding.Ssh.Transport;

/// <summary>
/// aes128-ctr / aes256-ctr (RFC 4344 §4) with hmac-sha2-256-etm@openssh.com / hmac-sha2-512-etm@openssh.com
/// (OpenSSH PROTOCOL §1.5: the length is cleartext, the MAC is computed over
/// uint32 sequence || packet_length || ciphertext). The CTR keystream is AES-ECB over the counter blocks.
/// </summary>
internal sealed class AesCtrEtmCipher : IPacketCipher
{
    public const string Aes128Name = "aes128-ctr";
    public const string Aes256Name = "aes256-ctr";
    public const string HmacSha256Etm = "hmac-sha2-256-etm@openssh.com";
    public const string HmacSha512Etm = "hmac-sha2-512-etm@openssh.com";

    private readonly Aes _aes;
    private readonly byte[] _counter;
    private readonly byte[] _macKey;
    private readonly HashAlgorithmName _macHash;

    public AesCtrEtmCipher(ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv, string macName, ReadOnlySpan<byte> macKey)
    {
        _aes = Aes.Create();
        _aes.Key = key.ToArray();
        _counter = iv[..16].ToArray();
        _macHash = macName == HmacSha512Etm ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256;
        _macKey = macKey.ToArray();
        TagLength = macName == HmacSha512Etm ? 64 : 32;
    }

    public static int MacKeyLength(string macName) => macName == HmacSha512Etm ? 64 : 32;

    public int BlockSize => 16;
    public int TagLength { get; }
    public bool LengthIsAligned => false;

    public uint DecryptLength(uint sequence, ReadOnlySpan<byte> first4) => BinaryPrimitives.ReadUInt32BigEndian(first4);

    // RFC 4344 §4: X = counter; each block is E(X) XOR P, then X += 1 (mod 2^128, big-endian).
    private void Crypt(Span<byte> data)
    {
        if (data.Length % 16 != 0)
            throw new SshProtocolException(SshDisconnectReason.ProtocolError, "Packet is not a multiple of the block size");
        var blocks = data.Length / 16;
        var stream = new byte[data.Length];
        for (var b = 0; b < blocks; b++)
        {
            _counter.CopyTo(stream, b * 16);
            for (var i = 15; i >= 0 && ++_counter[i] == 0; i--)
            {
            }
        }
        _aes.EncryptEcb(stream, stream, PaddingMode.None);
        Xor(data, stream);
        CryptographicOperations.ZeroMemory(stream);
    }

    private static void Xor(Span<byte> data, ReadOnlySpan<byte> keystream)
    {
        var i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            var width = System.Numerics.Vector<byte>.Count;
            for (; i + width <= data.Length; i += width)
            {
                var v = new System.Numerics.Vector<byte>(data[i..]) ^ new System.Numerics.Vector<byte>(keystream[i..]);
                v.CopyTo(data[i..]);
            }
        }
        for (; i < data.Length; i++)
            data[i] ^= keystream[i];
    }

    private byte[] Mac(uint sequence, ReadOnlySpan<byte> packet)
    {
        using var hmac = IncrementalHash.CreateHMAC(_macHash, _macKey);
        Span<byte> seq = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(seq, sequence);
        hmac.AppendData(seq);
        hmac.AppendData(packet);
        return hmac.GetHashAndReset();
    }

    public void Seal(uint sequence, Span<byte> packet, Span<byte> tag)
    {
        Crypt(packet[4..]);
        Mac(sequence, packet).CopyTo(tag);
    }

    public void Open(uint sequence, Span<byte> packet, ReadOnlySpan<byte> tag)
    {
        if (!CryptographicOperations.FixedTimeEquals(Mac(sequence, packet), tag))
            throw new SshProtocolException(SshDisconnectReason.MacError, "Corrupted MAC on input");
        Crypt(packet[4..]);
    }

    public void Dispose()
    {
        _aes.Dispose();
        CryptographicOperations.ZeroMemory(_macKey);
    }
}
