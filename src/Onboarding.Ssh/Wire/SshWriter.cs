using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Onboarding.Ssh.Wire;

/// <summary>Writes the RFC 4251 §5 data types into a pooled, growable buffer.</summary>
internal sealed class SshWriter : IDisposable
{
    private byte[] _buffer;
    private int _length;

    public SshWriter(int initialCapacity = 256)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(16, initialCapacity));
    }

    public int Length => _length;
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);
    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _length);

    public byte[] ToArray() => WrittenSpan.ToArray();

    public void Clear() => _length = 0;

    /// <summary>Reserves <paramref name="count"/> bytes and returns them for the caller to fill.</summary>
    public Span<byte> GetSpan(int count)
    {
        Ensure(count);
        var s = _buffer.AsSpan(_length, count);
        _length += count;
        return s;
    }

    /// <summary>Writable view of already written bytes (used to patch lengths in place).</summary>
    public Span<byte> WrittenMutable => _buffer.AsSpan(0, _length);

    private void Ensure(int count)
    {
        if (_length + count <= _buffer.Length)
            return;
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + count));
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        CryptographicClear(_buffer);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }

    public void WriteByte(byte value) => GetSpan(1)[0] = value;

    public void WriteBoolean(bool value) => WriteByte(value ? (byte)1 : (byte)0);

    public void WriteUInt32(uint value) => BinaryPrimitives.WriteUInt32BigEndian(GetSpan(4), value);

    public void WriteUInt64(ulong value) => BinaryPrimitives.WriteUInt64BigEndian(GetSpan(8), value);

    public void WriteRaw(ReadOnlySpan<byte> bytes) => bytes.CopyTo(GetSpan(bytes.Length));

    public void WriteString(ReadOnlySpan<byte> bytes)
    {
        WriteUInt32((uint)bytes.Length);
        WriteRaw(bytes);
    }

    public void WriteString(string text)
    {
        var count = Encoding.UTF8.GetByteCount(text);
        WriteUInt32((uint)count);
        Encoding.UTF8.GetBytes(text, GetSpan(count));
    }

    public void WriteNameList(IEnumerable<string> names) => WriteString(string.Join(',', names));

    /// <summary>RFC 4251 §5 mpint from an unsigned big-endian magnitude (leading zeros are stripped, a 0x00 is prefixed when the top bit is set).</summary>
    public void WriteMpintUnsigned(ReadOnlySpan<byte> magnitude)
    {
        var i = 0;
        while (i < magnitude.Length && magnitude[i] == 0)
            i++;
        magnitude = magnitude[i..];
        if (magnitude.Length == 0)
        {
            WriteUInt32(0);
            return;
        }
        var pad = (magnitude[0] & 0x80) != 0 ? 1 : 0;
        WriteUInt32((uint)(magnitude.Length + pad));
        if (pad == 1)
            WriteByte(0);
        WriteRaw(magnitude);
    }

    public void Dispose()
    {
        if (_buffer.Length == 0)
            return;
        CryptographicClear(_buffer.AsSpan(0, _length));
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        _length = 0;
    }

    // Buffers may have carried key material (private key encodings, shared secrets).
    private static void CryptographicClear(Span<byte> span) => System.Security.Cryptography.CryptographicOperations.ZeroMemory(span);
}
