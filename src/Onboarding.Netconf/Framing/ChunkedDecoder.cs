namespace Onboarding.Netconf.Framing;

/// <summary>
/// RFC 6242 §4.2 chunked framing (base:1.1), decoded byte by byte through the header so that "\n#", the size digits
/// and "\n##\n" may each be split across reads:
/// <code>
/// Chunked-Message = 1*chunk end-of-chunks
/// chunk           = LF HASH chunk-size LF chunk-data
/// chunk-size      = 1*DIGIT1 0*DIGIT        ; no leading zero, 1..4294967295
/// end-of-chunks   = LF HASH HASH LF
/// </code>
/// Anything else is invalid framing, which §4.2 answers by closing the session.
/// </summary>
public sealed class ChunkedDecoder(NetconfFramingLimits limits) : INetconfFrameDecoder
{
    private enum State
    {
        HeaderLf,
        HeaderHash,
        SizeFirst,
        SizeDigits,
        EndLf,
        Data,
    }

    private const int MaxSizeDigits = 10; // "4294967295"

    private readonly GrowableBuffer _message = new();
    private State _state = State.HeaderLf;
    private ulong _size;
    private int _digits;
    private long _remaining;
    private int _chunks;

    public ChunkedDecoder() : this(NetconfFramingLimits.Default) { }

    public bool AtMessageBoundary => _state == State.HeaderLf && _chunks == 0;

    public bool TryDecode(ref ReadOnlySpan<byte> input, out byte[]? message)
    {
        message = null;
        while (!input.IsEmpty)
        {
            if (_state == State.Data)
            {
                var n = (int)Math.Min(_remaining, input.Length);
                _message.Append(input[..n]);
                input = input[n..];
                _remaining -= n;
                if (_remaining == 0)
                    _state = State.HeaderLf;
                continue;
            }
            var b = input[0];
            input = input[1..];
            switch (_state)
            {
                case State.HeaderLf:
                    Expect(b == (byte)'\n', b, "LF before a chunk header");
                    _state = State.HeaderHash;
                    break;
                case State.HeaderHash:
                    Expect(b == (byte)'#', b, "'#' after LF");
                    _state = State.SizeFirst;
                    break;
                case State.SizeFirst:
                    if (b == (byte)'#')
                    {
                        // end-of-chunks: 1*chunk, so a message needs at least one chunk.
                        Expect(_chunks > 0, b, "a chunk before end-of-chunks");
                        _state = State.EndLf;
                        break;
                    }
                    Expect(b is >= (byte)'1' and <= (byte)'9', b, "a chunk-size starting with 1-9 (no leading zeros)");
                    _size = (ulong)(b - '0');
                    _digits = 1;
                    _state = State.SizeDigits;
                    break;
                case State.SizeDigits:
                    if (b == (byte)'\n')
                    {
                        StartChunk();
                        break;
                    }
                    Expect(b is >= (byte)'0' and <= (byte)'9', b, "a decimal digit or LF in chunk-size");
                    _size = _size * 10 + (ulong)(b - '0');
                    if (++_digits > MaxSizeDigits || _size > NetconfFramingLimits.RfcMaxChunkSize)
                        throw new NetconfException(NetconfError.Framing, "chunk-size above 4294967295 (RFC 6242 §4.2)");
                    break;
                case State.EndLf:
                    Expect(b == (byte)'\n', b, "LF closing end-of-chunks");
                    message = _message.Take(_message.Count);
                    _chunks = 0;
                    _state = State.HeaderLf;
                    return true;
            }
        }
        return false;
    }

    private void StartChunk()
    {
        if (_size > (ulong)limits.MaxChunkSize)
            throw new NetconfException(NetconfError.TooLarge, $"chunk of {_size} bytes exceeds the limit of {limits.MaxChunkSize}");
        if ((ulong)_message.Count + _size > (ulong)limits.MaxMessageSize)
            throw new NetconfException(NetconfError.TooLarge, $"chunked message exceeds {limits.MaxMessageSize} bytes");
        _remaining = (long)_size;
        _chunks++;
        _state = State.Data;
    }

    private static void Expect(bool ok, byte got, string what)
    {
        if (!ok)
            throw new NetconfException(NetconfError.Framing, $"invalid chunked framing: expected {what}, got 0x{got:x2} (RFC 6242 §4.2)");
    }

    /// <summary>Frames one message as chunks of at most <paramref name="chunkSize"/> bytes and end-of-chunks.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> message, int chunkSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        if (message.IsEmpty)
            throw new NetconfException(NetconfError.Framing, "a chunked message needs at least one octet (RFC 6242 §4.2)");
        using var output = new MemoryStream(message.Length + 16 + message.Length / chunkSize * 12);
        for (var offset = 0; offset < message.Length; offset += chunkSize)
        {
            var piece = message.Slice(offset, Math.Min(chunkSize, message.Length - offset));
            output.Write(System.Text.Encoding.ASCII.GetBytes($"\n#{piece.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)}\n"));
            output.Write(piece);
        }
        output.Write("\n##\n"u8);
        return output.ToArray();
    }
}
