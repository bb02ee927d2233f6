using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Onboarding.Ssh.Transport;

/// <summary>
/// aes128-gcm@openssh.com / aes256-gcm@openssh.com (RFC 5647): the length is cleartext AAD, the
/// 12-byte nonce is a 4-byte fixed field and an 8-byte invocation counter incremented per packet (§7.1).
/// </summary>
internal sealed class AesGcmCipher : IPacketCipher
{
    public const string Aes128Name = "aes128-gcm@openssh.com";
    public const string Aes256Name = "aes256-gcm@openssh.com";
    public const int IvLength = 12;

    private readonly AesGcm _gcm;
    private readonly byte[] _nonce;

    public AesGcmCipher(ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv)
    {
        if (iv.Length != IvLength)
            throw new ArgumentException("GCM needs a 12-byte IV", nameof(iv));
        _gcm = new AesGcm(key, 16);
        _nonce = iv.ToArray();
    }

    public int BlockSize => 16;
    public int TagLength => 16;
    public bool LengthIsAligned => false;

    public uint DecryptLength(uint sequence, ReadOnlySpan<byte> first4) => BinaryPrimitives.ReadUInt32BigEndian(first4);

    // RFC 5647 §7.1: invocation_counter += 1 after each packet, modulo 2^64.
    private void Increment()
    {
        var counter = BinaryPrimitives.ReadUInt64BigEndian(_nonce.AsSpan(4));
        BinaryPrimitives.WriteUInt64BigEndian(_nonce.AsSpan(4), unchecked(counter + 1));
    }

    public void Seal(uint sequence, Span<byte> packet, Span<byte> tag)
    {
        var body = packet[4..];
        _gcm.Encrypt(_nonce, body, body, tag, packet[..4]);
        Increment();
    }

    public void Open(uint sequence, Span<byte> packet, ReadOnlySpan<byte> tag)
    {
        var body = packet[4..];
        try
        {
            _gcm.Decrypt(_nonce, body, tag, body, packet[..4]);
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new SshProtocolException(SshDisconnectReason.MacError, "Corrupted MAC on input");
        }
        Increment();
    }

    public void Dispose() => _gcm.Dispose();
}
