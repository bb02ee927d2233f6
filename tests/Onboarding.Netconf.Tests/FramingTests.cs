using System.Text;
using Onboarding.Netconf.Framing;

namespace Onboarding.Netconf.Tests;

/// <summary>RFC 6242 §4.2–4.3 framing: golden bytes, every split point, and each malformation with its typed error.</summary>
public class FramingTests
{
    [Fact]
    public void Rfc6242_chunked_example_decodes_to_the_close_session_rpc()
    {
        ReadOnlySpan<byte> input = RfcExamples.ChunkedCloseSession;
        var decoder = new ChunkedDecoder();
        Assert.True(decoder.TryDecode(ref input, out var message));
        Assert.Equal(RfcExamples.CloseSessionRpc, Encoding.ASCII.GetString(message!));
        Assert.True(input.IsEmpty);
        Assert.True(decoder.AtMessageBoundary);
    }

    [Fact]
    public void Rfc6242_chunk_sizes_are_the_lengths_of_their_data()
    {
        // The RFC's sizes (4, 18, 79) must equal the pieces of the message, or the golden input is wrong.
        var rpc = RfcExamples.CloseSessionRpc;
        Assert.Equal(4 + 18 + 79, rpc.Length);
        Assert.Equal("<rpc", rpc[..4]);
    }

    [Fact]
    public void Chunked_encoding_is_byte_exact()
    {
        var framed = ChunkedDecoder.Encode("<rpc message-id=\"1\"/>"u8, 8);
        Assert.Equal("\n#8\n<rpc mes\n#8\nsage-id=\n#5\n\"1\"/>\n##\n", Encoding.ASCII.GetString(framed));
        var single = ChunkedDecoder.Encode("<ok/>"u8, 1024);
        Assert.Equal("\n#5\n<ok/>\n##\n", Encoding.ASCII.GetString(single));
    }

    [Fact]
    public void Rfc6241_hello_in_end_of_message_framing_decodes()
    {
        ReadOnlySpan<byte> input = RfcExamples.ServerHelloFramed;
        Assert.True(new EndOfMessageDecoder().TryDecode(ref input, out var message));
        Assert.Equal(RfcExamples.ServerHello, Encoding.ASCII.GetString(message!));
        Assert.True(input.IsEmpty);
    }

    [Fact]
    public void End_of_message_encoding_appends_the_marker_and_refuses_it_inside()
    {
        Assert.Equal("<hello/>]]>]]>", Encoding.ASCII.GetString(EndOfMessageDecoder.Encode("<hello/>"u8)));
        var e = Assert.Throws<NetconfException>(() => EndOfMessageDecoder.Encode("<a><!-- ]]>]]> --></a>"u8));
        Assert.Equal(NetconfError.Framing, e.Error);
    }

    public static TheoryData<string> Examples => new() { "chunked", "eom" };

    [Theory]
    [MemberData(nameof(Examples))]
    public void Every_split_into_two_and_three_pieces_decodes_the_same(string framing)
    {
        var (bytes, expected, make) = Example(framing);
        for (var i = 0; i <= bytes.Length; i++)
        {
            for (var j = i; j <= bytes.Length; j += framing == "chunked" ? 1 : 3)
            {
                var decoder = make();
                var messages = new List<string>();
                foreach (var (from, to) in new[] { (0, i), (i, j), (j, bytes.Length) })
                {
                    ReadOnlySpan<byte> piece = bytes.AsSpan(from, to - from);
                    while (decoder.TryDecode(ref piece, out var m))
                        messages.Add(Encoding.ASCII.GetString(m!));
                    Assert.True(piece.IsEmpty);
                }
                Assert.Equal([expected], messages);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void Byte_by_byte_decoding_matches_whole_buffer_decoding(string framing)
    {
        var (bytes, expected, make) = Example(framing);
        var decoder = make();
        string? got = null;
        for (var i = 0; i < bytes.Length; i++)
        {
            ReadOnlySpan<byte> one = bytes.AsSpan(i, 1);
            var done = decoder.TryDecode(ref one, out var m);
            Assert.Equal(i == bytes.Length - 1, done);
            if (done)
                got = Encoding.ASCII.GetString(m!);
        }
        Assert.Equal(expected, got);
    }

    [Fact]
    public void Back_to_back_messages_in_one_read_stay_separate()
    {
        var bytes = ChunkedDecoder.Encode("<a/>"u8, 3).Concat(ChunkedDecoder.Encode("<b/>"u8, 100)).ToArray();
        ReadOnlySpan<byte> input = bytes;
        var decoder = new ChunkedDecoder();
        Assert.True(decoder.TryDecode(ref input, out var first));
        Assert.True(decoder.TryDecode(ref input, out var second));
        Assert.Equal("<a/>", Encoding.ASCII.GetString(first!));
        Assert.Equal("<b/>", Encoding.ASCII.GetString(second!));
        Assert.False(decoder.TryDecode(ref input, out _));
    }

    [Fact]
    public void An_end_of_message_marker_split_by_a_false_start_is_found()
    {
        // "]]>]]" then "]]>]]>": the first five bytes are not a marker; the search must resume inside them.
        ReadOnlySpan<byte> a = "x]]>]]"u8;
        ReadOnlySpan<byte> b = "]]>]]>"u8;
        var decoder = new EndOfMessageDecoder();
        Assert.False(decoder.TryDecode(ref a, out _));
        Assert.True(decoder.TryDecode(ref b, out var m));
        Assert.Equal("x]]>]]", Encoding.ASCII.GetString(m!));
        Assert.True(b.IsEmpty);
    }

    [Theory]
    [InlineData("#4\n<rpc\n##\n", "LF before a chunk header")]
    [InlineData("\n4\n<rpc\n##\n", "'#' after LF")]
    [InlineData("\n#04\n<rpc\n##\n", "no leading zeros")]
    [InlineData("\n#0\n\n##\n", "no leading zeros")]
    [InlineData("\n#-1\n", "chunk-size starting with 1-9")]
    [InlineData("\n# 4\n<rpc\n##\n", "chunk-size starting with 1-9")]
    [InlineData("\n#4 \n<rpc\n##\n", "decimal digit or LF")]
    [InlineData("\n#4\r\n<rpc\n##\n", "decimal digit or LF")]
    [InlineData("\n##\n", "a chunk before end-of-chunks")]
    [InlineData("\n#4\n<rpc\n#", "")] // truncated, not malformed: see the next test
    [InlineData("\n#4\n<rpcX", "LF before a chunk header")]
    [InlineData("\n#4\n<rpc\n##X", "LF closing end-of-chunks")]
    [InlineData("\n#4\n<rpc]]>]]>", "LF before a chunk header")]
    public void Malformed_chunked_framing_is_a_framing_error(string input, string reason)
    {
        var bytes = Encoding.ASCII.GetBytes(input);
        var decoder = new ChunkedDecoder();
        if (reason.Length == 0)
        {
            ReadOnlySpan<byte> span = bytes;
            Assert.False(decoder.TryDecode(ref span, out _));
            Assert.False(decoder.AtMessageBoundary);
            return;
        }
        var e = Assert.Throws<NetconfException>(() =>
        {
            ReadOnlySpan<byte> span = bytes;
            while (decoder.TryDecode(ref span, out _))
            {
            }
        });
        Assert.Equal(NetconfError.Framing, e.Error);
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\n#4294967296\n")]
    [InlineData("\n#12345678901\n")]
    [InlineData("\n#99999999999999999999999\n")]
    public void Chunk_size_above_the_rfc_maximum_is_a_framing_error(string header)
    {
        var e = Assert.Throws<NetconfException>(() => Decode(new ChunkedDecoder(), header));
        Assert.Equal(NetconfError.Framing, e.Error);
    }

    [Fact]
    public void The_rfc_maximum_chunk_size_is_legal_but_above_our_bound()
    {
        var e = Assert.Throws<NetconfException>(() => Decode(new ChunkedDecoder(), "\n#4294967295\n"));
        Assert.Equal(NetconfError.TooLarge, e.Error);
    }

    [Fact]
    public void A_chunk_above_the_configured_chunk_size_is_refused_before_its_data_arrives()
    {
        var decoder = new ChunkedDecoder(new NetconfFramingLimits { MaxChunkSize = 10 });
        Decode(decoder, "\n#10\n0123456789");
        var e = Assert.Throws<NetconfException>(() => Decode(decoder, "\n#11\n"));
        Assert.Equal(NetconfError.TooLarge, e.Error);
    }

    [Fact]
    public void A_chunked_message_above_the_message_bound_is_refused()
    {
        var decoder = new ChunkedDecoder(new NetconfFramingLimits { MaxMessageSize = 12, MaxChunkSize = 10 });
        Decode(decoder, "\n#10\n0123456789");
        var e = Assert.Throws<NetconfException>(() => Decode(decoder, "\n#3\n"));
        Assert.Equal(NetconfError.TooLarge, e.Error);
    }

    [Fact]
    public void An_end_of_message_frame_above_the_bound_is_refused()
    {
        var decoder = new EndOfMessageDecoder(new NetconfFramingLimits { MaxMessageSize = 10 });
        Decode(decoder, "0123456789]]>]]>"); // exactly the bound: fine
        var e = Assert.Throws<NetconfException>(() => Decode(decoder, "0123456789" + "0]]>]]>"));
        Assert.Equal(NetconfError.TooLarge, e.Error);
        var slow = new EndOfMessageDecoder(new NetconfFramingLimits { MaxMessageSize = 10 });
        var e2 = Assert.Throws<NetconfException>(() =>
        {
            for (var i = 0; i < 100; i++)
                Decode(slow, "x");
        });
        Assert.Equal(NetconfError.TooLarge, e2.Error);
    }

    [Fact]
    public async Task Transport_switches_to_chunked_mid_read_and_reports_truncation()
    {
        // The server's hello and its first chunked reply arrive in one read (RFC 6242 §4.1: switch after the hellos).
        var bytes = RfcExamples.ServerHelloFramed.Concat(ChunkedDecoder.Encode("<rpc-reply/>"u8, 5)).ToArray();
        using var stream = new MemoryStream(bytes.Concat("\n#5\n<ab"u8.ToArray()).ToArray());
        var transport = new NetconfTransport(stream);
        Assert.Equal(RfcExamples.ServerHello, Encoding.ASCII.GetString((await transport.ReadMessageAsync())!));
        transport.SwitchToChunked();
        Assert.Equal("<rpc-reply/>", Encoding.ASCII.GetString((await transport.ReadMessageAsync())!));
        var e = await Assert.ThrowsAsync<NetconfException>(async () => await transport.ReadMessageAsync());
        Assert.Equal(NetconfError.Closed, e.Error);
    }

    [Fact]
    public async Task Transport_returns_null_on_a_clean_close_between_messages()
    {
        using var stream = new MemoryStream("<a/>]]>]]>\n"u8.ToArray()); // a trailing newline is not a message
        var transport = new NetconfTransport(stream);
        Assert.NotNull(await transport.ReadMessageAsync());
        Assert.Null(await transport.ReadMessageAsync());
    }

    private static (byte[] Bytes, string Expected, Func<INetconfFrameDecoder> Make) Example(string framing) => framing == "chunked"
        ? (RfcExamples.ChunkedCloseSession, RfcExamples.CloseSessionRpc, () => new ChunkedDecoder())
        : (RfcExamples.ServerHelloFramed, RfcExamples.ServerHello, () => new EndOfMessageDecoder());

    private static void Decode(INetconfFrameDecoder decoder, string text)
    {
        ReadOnlySpan<byte> span = Encoding.ASCII.GetBytes(text);
        while (decoder.TryDecode(ref span, out _))
        {
        }
    }
}
