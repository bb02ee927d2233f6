namespace Onboarding.Ssh.Transport;

/// <summary>
/// One direction of an RFC 4253 §6 binary packet protection. Every supported construction keeps a
/// 4-byte length field that can be recovered before the rest of the packet is read (cleartext for
/// none/GCM/EtM, separately encrypted for chacha20-poly1305).
/// The packet span passed in is "uint32 packet_length || byte padding_length || payload || padding".
/// </summary>
internal interface IPacketCipher : IDisposable
{
    /// <summary>Padding alignment (RFC 4253 §6: at least 8).</summary>
    int BlockSize { get; }

    int TagLength { get; }

    /// <summary>Whether the 4 length bytes count towards the block alignment (true only for "none", RFC 4253 §6).</summary>
    bool LengthIsAligned { get; }

    uint DecryptLength(uint sequence, ReadOnlySpan<byte> first4);

    void Seal(uint sequence, Span<byte> packet, Span<byte> tag);

    /// <summary>Authenticates then decrypts in place; throws <see cref="SshProtocolException"/> (MacError) on a bad tag.</summary>
    void Open(uint sequence, Span<byte> packet, ReadOnlySpan<byte> tag);
}
