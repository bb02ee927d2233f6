using System.Buffers.Binary;

namespace Onboarding.Mqtt.Packets;

/// <summary>
/// Bounds-checked cursor over one packet body. Every read checks what remains first, so a
/// truncated or lying packet becomes a Malformed Packet error, never an IndexOutOfRangeException.
/// </summary>
internal ref struct MqttReader(ReadOnlySpan<byte> buffer)
{
    private readonly ReadOnlySpan<byte> _buffer = buffer;
    private int _position;

    public readonly int Remaining => _buffer.Length - _position;

    public readonly bool End => _position == _buffer.Length;

    public byte ReadByte()
    {
        Need(1, "byte");
        return _buffer[_position++];
    }

    // MQTT 5.0 §1.5.2: Two Byte Integer, big-endian.
    public ushort ReadUInt16()
    {
        Need(2, "two byte integer");
        var value = BinaryPrimitives.ReadUInt16BigEndian(_buffer[_position..]);
        _position += 2;
        return value;
    }

    // MQTT 5.0 §1.5.3: Four Byte Integer, big-endian.
    public uint ReadUInt32()
    {
        Need(4, "four byte integer");
        var value = BinaryPrimitives.ReadUInt32BigEndian(_buffer[_position..]);
        _position += 4;
        return value;
    }

    // MQTT 5.0 §1.5.5: Variable Byte Integer.
    public int ReadVariableByteInteger()
    {
        var status = VariableByteInteger.TryRead(_buffer[_position..], out var value, out var consumed);
        if (status == VariableByteInteger.Status.NeedMore)
            throw Malformed("truncated variable byte integer");
        if (status == VariableByteInteger.Status.Invalid)
            throw Malformed("invalid variable byte integer");
        _position += consumed;
        return value;
    }

    // MQTT 5.0 §1.5.4: UTF-8 Encoded String, 2-byte length prefix, strictly well-formed.
    public string ReadString()
    {
        var length = ReadUInt16();
        Need(length, "UTF-8 string");
        var bytes = _buffer.Slice(_position, length);
        _position += length;
        return MqttUtf8.Decode(bytes);
    }

    // MQTT 5.0 §1.5.6: Binary Data, 2-byte length prefix.
    public ReadOnlySpan<byte> ReadBinary()
    {
        var length = ReadUInt16();
        return ReadBytes(length);
    }

    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        Need(count, "bytes");
        var bytes = _buffer.Slice(_position, count);
        _position += count;
        return bytes;
    }

    // MQTT 5.0 §2.2.1: Packet Identifiers are non-zero.
    public ushort ReadPacketIdentifier()
    {
        var id = ReadUInt16();
        return id != 0 ? id : throw ProtocolError("packet identifier 0");
    }

    public ReadOnlySpan<byte> ReadToEnd()
    {
        var bytes = _buffer[_position..];
        _position = _buffer.Length;
        return bytes;
    }

    public readonly void ExpectEnd(string what)
    {
        if (!End)
            throw Malformed($"{Remaining} unexpected trailing bytes in {what}");
    }

    private readonly void Need(int count, string what)
    {
        if (count < 0 || Remaining < count)
            throw Malformed($"truncated {what}: need {count}, have {Remaining}");
    }

    public static MqttProtocolException Malformed(string message) => new(MqttReasonCode.MalformedPacket, "Malformed packet: " + message);

    public static MqttProtocolException ProtocolError(string message) => new(MqttReasonCode.ProtocolError, "Protocol error: " + message);
}
