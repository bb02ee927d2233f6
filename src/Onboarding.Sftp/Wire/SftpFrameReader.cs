using System.Buffers;
using System.Buffers.Binary;

namespace Onboarding.Sftp.Wire;

/// <summary>
/// Splits a byte stream into packets (draft-ietf-secsh-filexfer-02 §3: uint32 length, then
/// that many bytes). Pure: it only looks at the bytes it is given.
/// </summary>
internal static class SftpFrameReader
{
    /// <summary>256 KiB of data plus room for the header fields of a WRITE or DATA packet.</summary>
    public const int DefaultMaxPacketLength = 256 * 1024 + 1024;

    /// <summary>
    /// Returns false when more bytes are needed. Otherwise slices one packet payload (type byte
    /// first) off <paramref name="buffer"/>. Throws <see cref="SftpProtocolException"/> when the
    /// announced length is zero or above <paramref name="maxPacketLength"/>, before buffering it.
    /// </summary>
    public static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, int maxPacketLength, out ReadOnlySequence<byte> payload)
    {
        payload = default;
        if (buffer.Length < 4)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(header);
        var length = BinaryPrimitives.ReadUInt32BigEndian(header);
        if (length == 0)
        {
            throw new SftpProtocolException(SftpProtocolError.Truncated, "packet of length 0 has no type byte");
        }

        if (length > (uint)maxPacketLength)
        {
            throw new SftpProtocolException(SftpProtocolError.LengthExceedsMaximum, $"packet length {length} exceeds the maximum {maxPacketLength}");
        }

        if (buffer.Length - 4 < length)
        {
            return false;
        }

        payload = buffer.Slice(4, length);
        buffer = buffer.Slice(4 + length);
        return true;
    }
}
