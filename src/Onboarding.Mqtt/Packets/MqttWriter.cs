using System.Buffers;
using System.Buffers.Binary;

namespace Onboarding.Mqtt.Packets;

/// <summary>
/// Growable, pooled output buffer for one packet. The body is written after 5 bytes of headroom,
/// so the fixed header (1 byte + at most 4 bytes of remaining length) is placed in front without copying.
/// </summary>
internal sealed class MqttWriter : IDisposable
{
    private const int HeaderRoom = 5;
    private byte[] _buffer;
    private int _position = HeaderRoom;
    private int _start = HeaderRoom;

    public MqttWriter(int initialCapacity = 256) => _buffer = ArrayPool<byte>.Shared.Rent(initialCapacity + HeaderRoom);

    /// <summary>Bytes written after the headroom (the packet body until <see cref="Complete"/> is called).</summary>
    public int BodyLength => _position - HeaderRoom;

    /// <summary>The finished packet (fixed header + body) once <see cref="Complete"/> has run.</summary>
    public ReadOnlyMemory<byte> Written => _buffer.AsMemory(_start, _position - _start);

    public void WriteByte(byte value)
    {
        Ensure(1);
        _buffer[_position++] = value;
    }

    public void WriteUInt16(ushort value)
    {
        Ensure(2);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(_position), value);
        _position += 2;
    }

    public void WriteUInt32(uint value)
    {
        Ensure(4);
        BinaryPrimitives.WriteUInt32BigEndian(_buffer.AsSpan(_position), value);
        _position += 4;
    }

    public void WriteVariableByteInteger(int value)
    {
        Ensure(4);
        _position += VariableByteInteger.Write(_buffer.AsSpan(_position), value);
    }

    public void WriteString(string value, string what = "string") => WriteBinary(MqttUtf8.Encode(value, what));

    public void WriteBinary(ReadOnlySpan<byte> value)
    {
        if (value.Length > ushort.MaxValue)
            throw new ArgumentException("binary data is longer than 65535 bytes (MQTT 5.0 §1.5.6)", nameof(value));
        WriteUInt16((ushort)value.Length);
        WriteBytes(value);
    }

    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        Ensure(value.Length);
        value.CopyTo(_buffer.AsSpan(_position));
        _position += value.Length;
    }

    /// <summary>Prepends the fixed header (MQTT 5.0 §2.1.1) in the headroom.</summary>
    public void Complete(PacketType type, byte flags)
    {
        var length = BodyLength;
        var vbiSize = VariableByteInteger.SizeOf(length);
        _start = HeaderRoom - 1 - vbiSize;
        _buffer[_start] = (byte)(((int)type << 4) | (flags & 0x0F));
        VariableByteInteger.Write(_buffer.AsSpan(_start + 1), length);
    }

    public byte[] ToArray() => Written.ToArray();

    private void Ensure(int count)
    {
        if (_buffer.Length - _position >= count)
            return;
        var needed = (long)_position + count;
        if (needed > VariableByteInteger.MaxValue + HeaderRoom)
            throw new ArgumentException("packet exceeds the maximum remaining length of 268,435,455 bytes");
        var larger = ArrayPool<byte>.Shared.Rent((int)Math.Max(needed, _buffer.Length * 2L));
        _buffer.AsSpan(0, _position).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = larger;
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0)
            ArrayPool<byte>.Shared.Return(buffer);
    }
}
