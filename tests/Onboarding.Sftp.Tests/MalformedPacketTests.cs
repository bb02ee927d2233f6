using System.Buffers;
using Onboarding.Sftp.Packets;
using Onboarding.Sftp.Wire;
using static Onboarding.Sftp.Tests.GoldenPacketTests;

namespace Onboarding.Sftp.Tests;

public class MalformedPacketTests
{
    private static SftpProtocolException DecodeFails(string hex) =>
        Assert.Throws<SftpProtocolException>(() => SftpPacketCodec.Decode(Hex(hex)));

    [Fact]
    public void String_length_beyond_the_packet_is_truncated_not_allocated()
    {
        var e = DecodeFails("11 00000007 ffffffff 2f");
        Assert.Equal(SftpProtocolError.Truncated, e.Error);
        Assert.Equal(7u, e.RequestId);
    }

    [Fact]
    public void Name_count_that_cannot_fit_is_rejected_before_allocating()
    {
        var e = DecodeFails("68 00000001 7fffffff 00000000");
        Assert.Equal(SftpProtocolError.Truncated, e.Error);
    }

    [Fact]
    public void Attrs_extended_count_that_cannot_fit_is_rejected()
    {
        var e = DecodeFails("69 00000001 80000000 ffffffff");
        Assert.Equal(SftpProtocolError.Truncated, e.Error);
    }

    [Fact]
    public void Trailing_bytes_are_rejected_with_the_request_id()
    {
        var e = DecodeFails("11 00000009 00000001 2f 00");
        Assert.Equal(SftpProtocolError.TrailingData, e.Error);
        Assert.Equal(9u, e.RequestId);
    }

    [Fact]
    public void Unknown_packet_type_reports_its_request_id()
    {
        var e = DecodeFails("63 0000002a");
        Assert.Equal(SftpProtocolError.UnknownPacketType, e.Error);
        Assert.Equal(42u, e.RequestId);
    }

    [Fact]
    public void Empty_payload_is_truncated()
    {
        Assert.Equal(SftpProtocolError.Truncated, Assert.Throws<SftpProtocolException>(() => SftpPacketCodec.Decode(ReadOnlySpan<byte>.Empty)).Error);
    }

    [Fact]
    public void Handle_longer_than_256_bytes_is_rejected()
    {
        var hex = "04 00000001 00000101" + new string('6', 257 * 2);
        Assert.Equal(SftpProtocolError.LengthExceedsMaximum, DecodeFails(hex).Error);
    }

    [Fact]
    public void Invalid_utf8_path_is_rejected()
    {
        Assert.Equal(SftpProtocolError.InvalidUtf8, DecodeFails("11 00000001 00000002 c328").Error);
    }

    [Fact]
    public void Frame_reader_waits_for_the_length_and_for_the_body()
    {
        var bytes = Hex("0000000a 07 00000005 00000001 2f");
        for (var cut = 0; cut < bytes.Length; cut++)
        {
            var partial = new ReadOnlySequence<byte>(bytes, 0, cut);
            Assert.False(SftpFrameReader.TryReadFrame(ref partial, 1024, out _));
            Assert.Equal(cut, partial.Length);
        }
    }

    [Fact]
    public void Frame_over_the_maximum_is_refused_before_buffering()
    {
        var header = new ReadOnlySequence<byte>(Hex("00040401"));
        var e = Assert.Throws<SftpProtocolException>(() => SftpFrameReader.TryReadFrame(ref header, SftpFrameReader.DefaultMaxPacketLength, out _));
        Assert.Equal(SftpProtocolError.LengthExceedsMaximum, e.Error);
    }

    [Fact]
    public void Zero_length_frame_is_refused()
    {
        var header = new ReadOnlySequence<byte>(Hex("00000000"));
        Assert.Throws<SftpProtocolException>(() => SftpFrameReader.TryReadFrame(ref header, 1024, out _));
    }

    [Fact]
    public void Frames_split_across_segments_are_reassembled()
    {
        var bytes = Hex("0000000a 07 00000005 00000001 2f 0000000a 08 00000006 00000001 68");
        var first = new Segment(bytes.AsMemory(0, 3));
        var last = first.Append(bytes.AsMemory(3, 8)).Append(bytes.AsMemory(11));
        var sequence = new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        Assert.True(SftpFrameReader.TryReadFrame(ref sequence, 1024, out var p1));
        Assert.IsType<LStatPacket>(SftpPacketCodec.Decode(p1));
        Assert.True(SftpFrameReader.TryReadFrame(ref sequence, 1024, out var p2));
        Assert.Equal(6u, Assert.IsType<FStatPacket>(SftpPacketCodec.Decode(p2)).RequestId);
        Assert.False(SftpFrameReader.TryReadFrame(ref sequence, 1024, out _));
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
