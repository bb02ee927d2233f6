using System.Buffers.Binary;
using System.Text;

namespace Onboarding.Ssh.Wire;

/// <summary>
/// Reads the RFC 4251 §5 data types from a span. Total: every length is checked against what
/// remains and against <see cref="MaxStringLength"/> before it is used; any violation becomes an
/// <see cref="SshProtocolException"/>, never an index exception.
/// </summary>
internal ref struct SshReader
{
    /// <summary>Default bound for one string: a packet can never be larger (RFC 4253 §6.1, our 256 KiB limit).</summary>
    public const int DefaultMaxStringLength = 256 * 1024;

    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    public SshReader(ReadOnlySpan<byte> data, int maxStringLength = DefaultMaxStringLength)
    {
        _data = data;
        _position = 0;
        MaxStringLength = maxStringLength;
    }

    public int MaxStringLength { get; }
    public readonly int Position => _position;
    public readonly int Remaining => _data.Length - _position;
    public readonly bool AtEnd => _position == _data.Length;

    private static SshProtocolException Malformed(string what) =>
        new(SshDisconnectReason.ProtocolError, "Malformed message: " + what);

    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        if (count < 0 || count > Remaining)
            throw Malformed($"needs {count} bytes, {Remaining} remain");
        var s = _data.Slice(_position, count);
        _position += count;
        return s;
    }

    public byte ReadByte() => ReadBytes(1)[0];

    /// <summary>RFC 4251 §5: a boolean is one byte; any non-zero value is true.</summary>
    public bool ReadBoolean() => ReadByte() != 0;

    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32BigEndian(ReadBytes(4));

    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64BigEndian(ReadBytes(8));

    /// <summary>RFC 4251 §5 string: uint32 length then that many bytes.</summary>
    public ReadOnlySpan<byte> ReadString()
    {
        var length = ReadUInt32();
        if (length > (uint)MaxStringLength)
            throw Malformed($"string of {length} bytes exceeds limit {MaxStringLength}");
        if (length > (uint)Remaining)
            throw Malformed($"string of {length} bytes but {Remaining} remain");
        return ReadBytes((int)length);
    }

    public string ReadUtf8()
    {
        var bytes = ReadString();
        try
        {
            return Utf8Strict.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw Malformed("invalid UTF-8");
        }
    }

    /// <summary>An ASCII name (algorithm names, request types): US-ASCII printable only (RFC 4251 §6).</summary>
    public string ReadAscii()
    {
        var bytes = ReadString();
        foreach (var b in bytes)
        {
            if (b < 0x20 || b > 0x7e)
                throw Malformed("non-printable character in name");
        }
        return Encoding.ASCII.GetString(bytes);
    }

    /// <summary>RFC 4251 §5 name-list: comma-separated ASCII names, no empty names.</summary>
    public string[] ReadNameList()
    {
        var text = ReadAscii();
        if (text.Length == 0)
            return [];
        var names = text.Split(',');
        foreach (var n in names)
        {
            if (n.Length == 0)
                throw Malformed("empty name in name-list");
        }
        return names;
    }

    /// <summary>
    /// RFC 4251 §5 mpint, returned as an unsigned big-endian magnitude without leading zeros.
    /// Negative values are refused: no SSH field we read may be negative.
    /// </summary>
    public ReadOnlySpan<byte> ReadMpintUnsigned()
    {
        var raw = ReadString();
        if (raw.Length == 0)
            return raw;
        if ((raw[0] & 0x80) != 0)
            throw Malformed("negative mpint");
        if (raw[0] == 0 && (raw.Length == 1 || (raw[1] & 0x80) == 0))
            throw Malformed("mpint with unnecessary leading zero");
        return raw[0] == 0 ? raw[1..] : raw;
    }

    public readonly void EnsureEnd()
    {
        if (!AtEnd)
            throw Malformed($"{Remaining} trailing bytes");
    }

    private static readonly UTF8Encoding Utf8Strict = new(false, true);
}
