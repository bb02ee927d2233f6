using System.Buffers;

namespace Onboarding.Mqtt.Packets;

internal enum FrameStatus
{
    /// <summary>Not enough bytes for a whole packet yet; nothing was consumed.</summary>
    NeedMore,

    /// <summary>One packet was decoded; <see cref="FrameResult.Consumed"/> bytes belong to it.</summary>
    Packet,

    /// <summary>The input violates the protocol; the connection must be closed with <see cref="FrameResult.Error"/>'s reason code.</summary>
    Error,
}

internal readonly record struct FrameResult(FrameStatus Status, MqttPacket? Packet, MqttProtocolException? Error, long Consumed)
{
    public static readonly FrameResult NeedMore = new(FrameStatus.NeedMore, null, null, 0);
}

/// <summary>
/// Splits a byte stream into control packets (MQTT 5.0 §2.1). Pure: it reads the sequence it is given
/// and never blocks, so the connection loop owns buffering and lifetime.
/// </summary>
internal static class MqttFrameReader
{
    public static FrameResult Read(ReadOnlySequence<byte> buffer, MqttProtocolVersion version, uint maximumPacketSize)
    {
        if (buffer.IsEmpty)
            return FrameResult.NeedMore;
        Span<byte> header = stackalloc byte[5];
        var available = (int)Math.Min(buffer.Length, header.Length);
        buffer.Slice(0, available).CopyTo(header);
        header = header[..available];

        var status = VariableByteInteger.TryRead(header[1..], out var remainingLength, out var vbiSize);
        if (status == VariableByteInteger.Status.NeedMore)
            return FrameResult.NeedMore;
        if (status == VariableByteInteger.Status.Invalid)
            return Fail(MqttReader.Malformed("remaining length is not a valid variable byte integer"));

        // MQTT 5.0 §3.1.2.11.4: a packet larger than our Maximum Packet Size is refused before its body is buffered.
        var total = 1L + vbiSize + remainingLength;
        if (total > maximumPacketSize)
            return Fail(new MqttProtocolException(MqttReasonCode.PacketTooLarge, $"Packet of {total} bytes exceeds the maximum packet size {maximumPacketSize}"));
        if (buffer.Length < total)
            return FrameResult.NeedMore;

        var body = buffer.Slice(1 + vbiSize, remainingLength);
        try
        {
            var packet = body.IsSingleSegment
                ? Decode(header[0], body.FirstSpan, version)
                : DecodeCopied(header[0], body, version);
            return new FrameResult(FrameStatus.Packet, packet, null, total);
        }
        catch (MqttProtocolException e)
        {
            return Fail(e);
        }
    }

    private static MqttPacket DecodeCopied(byte first, ReadOnlySequence<byte> body, MqttProtocolVersion version)
    {
        // The length was checked against the maximum packet size above, so this allocation is bounded.
        var copy = ArrayPool<byte>.Shared.Rent((int)body.Length);
        try
        {
            body.CopyTo(copy);
            return Decode(first, copy.AsSpan(0, (int)body.Length), version);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(copy);
        }
    }

    /// <summary>Decodes one packet from its first byte and body (without the remaining length).</summary>
    public static MqttPacket Decode(byte first, ReadOnlySpan<byte> body, MqttProtocolVersion version)
    {
        var type = (PacketType)(first >> 4);
        var flags = (byte)(first & 0x0F);
        if (type != PacketType.Publish)
        {
            // MQTT 5.0 §2.1.3: reserved flag bits must be exactly as listed, else Malformed Packet.
            var expected = type is PacketType.PubRel or PacketType.Subscribe or PacketType.Unsubscribe ? 0x02 : 0x00;
            if (flags != expected)
                return Throw($"fixed header flags 0x{flags:X} invalid for {type}");
        }
        return type switch
        {
            PacketType.Connect => ConnectPacket.Read(body),
            PacketType.ConnAck => ConnAckPacket.Read(body, version),
            PacketType.Publish => PublishPacket.Read(body, flags, version),
            PacketType.PubAck => PubAckPacket.Read(body, version),
            PacketType.PubRec => PubRecPacket.Read(body, version),
            PacketType.PubRel => PubRelPacket.Read(body, version),
            PacketType.PubComp => PubCompPacket.Read(body, version),
            PacketType.Subscribe => SubscribePacket.Read(body, version),
            PacketType.SubAck => SubAckPacket.Read(body, version),
            PacketType.Unsubscribe => UnsubscribePacket.Read(body, version),
            PacketType.UnsubAck => UnsubAckPacket.Read(body, version),
            PacketType.PingReq => PingReqPacket.Read(body),
            PacketType.PingResp => PingRespPacket.Read(body),
            PacketType.Disconnect => DisconnectPacket.Read(body, version),
            PacketType.Auth => AuthPacket.Read(body, version),
            _ => Throw("packet type 0 is reserved"), // MQTT 5.0 §2.1.2
        };
    }

    private static MqttPacket Throw(string message) => throw MqttReader.Malformed(message);

    private static FrameResult Fail(MqttProtocolException error) => new(FrameStatus.Error, null, error, 0);
}
