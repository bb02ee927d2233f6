using System.Buffers.Binary;

namespace Onboarding.Ssh.Transport;

/// <summary>RFC 4253 §6.3 "none": only used before the first NEWKEYS.</summary>
internal sealed class NoneCipher : IPacketCipher
{
    public static readonly NoneCipher Instance = new();

    public int BlockSize => 8;
    public int TagLength => 0;
    public bool LengthIsAligned => true;

    public uint DecryptLength(uint sequence, ReadOnlySpan<byte> first4) => BinaryPrimitives.ReadUInt32BigEndian(first4);

    public void Seal(uint sequence, Span<byte> packet, Span<byte> tag)
    {
    }

    public void Open(uint sequence, Span<byte> packet, ReadOnlySpan<byte> tag)
    {
    }

    public void Dispose()
    {
    }
}
