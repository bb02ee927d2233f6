using System.Buffers.Binary;
using System.Text;

namespace Onboarding.Sftp.Wire;

/// <summary>
/// Builds one framed packet (draft-ietf-secsh-filexfer-02 §3: uint32 length, byte type, data).
/// The length prefix is patched by <see cref="ToFrame"/>.
/// </summary>
internal sealed class SftpWriter
{
    private byte[] _buffer;
    private int _length;

    public SftpWriter(int capacity = 256)
    {
        _buffer = new byte[Math.Max(capacity, 16)];
        _length = 4; // room for the length prefix
    }

    public int PayloadLength => _length - 4;

    public void WriteByte(byte value)
    {
        Grow(1);
        _buffer[_length++] = value;
    }

    public void WriteUInt32(uint value)
    {
        Grow(4);
        BinaryPrimitives.WriteUInt32BigEndian(_buffer.AsSpan(_length), value);
        _length += 4;
    }

    public void WriteUInt64(ulong value)
    {
        Grow(8);
        BinaryPrimitives.WriteUInt64BigEndian(_buffer.AsSpan(_length), value);
        _length += 8;
    }

    public void WriteBinary(ReadOnlySpan<byte> value)
    {
        WriteUInt32((uint)value.Length);
        WriteRaw(value);
    }

    public void WriteString(string value)
    {
        var count = Encoding.UTF8.GetByteCount(value);
        WriteUInt32((uint)count);
        Grow(count);
        _length += Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_length));
    }

    public void WriteRaw(ReadOnlySpan<byte> value)
    {
        Grow(value.Length);
        value.CopyTo(_buffer.AsSpan(_length));
        _length += value.Length;
    }

    /// <summary>The packet without its length prefix (type byte first).</summary>
    public ReadOnlyMemory<byte> Payload => _buffer.AsMemory(4, _length - 4);

    /// <summary>Patches the length prefix and returns the whole frame.</summary>
    public ReadOnlyMemory<byte> ToFrame()
    {
        BinaryPrimitives.WriteUInt32BigEndian(_buffer, (uint)(_length - 4));
        return _buffer.AsMemory(0, _length);
    }

    private void Grow(int count)
    {
        if (_length + count <= _buffer.Length)
        {
            return;
        }

        var size = Math.Max(_buffer.Length * 2, _length + count);
        Array.Resize(ref _buffer, size);
    }
}
