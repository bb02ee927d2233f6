using System.Buffers.Binary;
using System.Text;

namespace Onboarding.Sftp.Wire;

/// <summary>
/// Reads draft-ietf-secsh-filexfer-02 §3 data types (uint32, uint64, string) from one packet.
/// Total: every length is checked against what remains before anything is allocated, and every
/// failure is an <see cref="SftpProtocolException"/>. The packet itself was already bounded by
/// the configured maximum packet length in <see cref="SftpFrameReader"/>.
/// </summary>
internal ref struct SftpReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly ReadOnlySpan<byte> _buffer;
    private int _position;

    public SftpReader(ReadOnlySpan<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
        RequestId = null;
    }

    /// <summary>Set once a request id has been read so later errors can name the request.</summary>
    public uint? RequestId { get; set; }

    public readonly int Remaining => _buffer.Length - _position;

    public byte ReadByte()
    {
        Need(1, "byte");
        return _buffer[_position++];
    }

    public uint ReadUInt32()
    {
        Need(4, "uint32");
        var value = BinaryPrimitives.ReadUInt32BigEndian(_buffer.Slice(_position, 4));
        _position += 4;
        return value;
    }

    public ulong ReadUInt64()
    {
        Need(8, "uint64");
        var value = BinaryPrimitives.ReadUInt64BigEndian(_buffer.Slice(_position, 8));
        _position += 8;
        return value;
    }

    /// <summary>Reads a request id and remembers it for error reports.</summary>
    public uint ReadRequestId()
    {
        var id = ReadUInt32();
        RequestId = id;
        return id;
    }

    /// <summary>§3: a string is a uint32 length followed by that many bytes; returns a view.</summary>
    public ReadOnlySpan<byte> ReadBinarySpan()
    {
        var length = ReadUInt32();
        if (length > (uint)Remaining)
        {
            throw Error(SftpProtocolError.Truncated, $"string of {length} bytes but only {Remaining} remain");
        }

        var span = _buffer.Slice(_position, (int)length);
        _position += (int)length;
        return span;
    }

    public byte[] ReadBinary() => ReadBinarySpan().ToArray();

    /// <summary>A string holding text (file names, messages). SFTP v3 does not fix an encoding; we require UTF-8.</summary>
    public string ReadString()
    {
        var bytes = ReadBinarySpan();
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw Error(SftpProtocolError.InvalidUtf8, "string is not valid UTF-8");
        }
    }

    /// <summary>The rest of the packet (e.g. the request-specific data of SSH_FXP_EXTENDED).</summary>
    public ReadOnlySpan<byte> ReadRemaining()
    {
        var rest = _buffer[_position..];
        _position = _buffer.Length;
        return rest;
    }

    /// <summary>Checks that <paramref name="count"/> items of at least <paramref name="minSize"/> bytes could fit.</summary>
    public readonly void EnsureAvailable(uint count, int minSize)
    {
        if ((ulong)count * (ulong)minSize > (ulong)Remaining)
        {
            throw Error(SftpProtocolError.Truncated, $"count {count} cannot fit in the {Remaining} bytes remaining");
        }
    }

    public readonly void EnsureEnd()
    {
        if (Remaining != 0)
        {
            throw Error(SftpProtocolError.TrailingData, $"{Remaining} unexpected bytes after the last field");
        }
    }

    public readonly SftpProtocolException Error(SftpProtocolError error, string message) => new(error, message, RequestId);

    private readonly void Need(int count, string what)
    {
        if (Remaining < count)
        {
            throw Error(SftpProtocolError.Truncated, $"packet ends before {what}");
        }
    }
}
