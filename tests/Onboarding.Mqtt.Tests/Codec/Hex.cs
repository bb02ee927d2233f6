using System.Buffers;
using Onboarding.Mqtt.Packets;

namespace Onboarding.Mqtt.Tests.Codec;

internal static class Hex
{
    public static byte[] Bytes(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

    public static string Of(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes);

    public static MqttPacket Decode(byte[] frame, MqttProtocolVersion version, uint max = 1 << 20)
    {
        var result = MqttFrameReader.Read(new ReadOnlySequence<byte>(frame), version, max);
        if (result.Status == FrameStatus.Error)
            throw result.Error!;
        Assert.Equal(FrameStatus.Packet, result.Status);
        Assert.Equal(frame.Length, result.Consumed);
        return result.Packet!;
    }

    public static MqttProtocolException DecodeError(byte[] frame, MqttProtocolVersion version, uint max = 1 << 20)
    {
        var result = MqttFrameReader.Read(new ReadOnlySequence<byte>(frame), version, max);
        Assert.Equal(FrameStatus.Error, result.Status);
        return result.Error!;
    }

    /// <summary>Splits bytes into one-byte segments to exercise multi-segment paths.</summary>
    public static ReadOnlySequence<byte> Fragmented(byte[] bytes)
    {
        if (bytes.Length == 0)
            return ReadOnlySequence<byte>.Empty;
        var first = new Segment(bytes.AsMemory(0, 1), 0);
        var last = first;
        for (var i = 1; i < bytes.Length; i++)
            last = last.Append(bytes.AsMemory(i, 1));
        return new ReadOnlySequence<byte>(first, 0, last, 1);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
