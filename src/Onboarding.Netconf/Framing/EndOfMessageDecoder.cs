namespace Onboarding.Netconf.Framing;

/// <summary>
/// RFC 6242 §4.3 end-of-message framing (base:1.0, and every hello): a message ends at the first "]]>]]>". The marker
/// may span reads, so the search restarts five bytes before the end of what was buffered.
/// </summary>
public sealed class EndOfMessageDecoder(NetconfFramingLimits limits) : INetconfFrameDecoder
{
    public static ReadOnlySpan<byte> Delimiter => "]]>]]>"u8;

    private readonly GrowableBuffer _buffer = new();

    public EndOfMessageDecoder() : this(NetconfFramingLimits.Default) { }

    /// <summary>Whitespace after "]]>]]>" (some devices send a newline) does not start a message.</summary>
    public bool AtMessageBoundary
    {
        get
        {
            foreach (var b in _buffer.Span)
            {
                if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
                    return false;
            }
            return true;
        }
    }

    public bool TryDecode(ref ReadOnlySpan<byte> input, out byte[]? message)
    {
        message = null;
        if (input.IsEmpty)
            return false;
        var before = _buffer.Count;
        var searchFrom = Math.Max(0, before - (Delimiter.Length - 1));
        // Append only what can still hold a message within the bound, plus the marker.
        var room = limits.MaxMessageSize + Delimiter.Length - before;
        var take = Math.Min(input.Length, room);
        _buffer.Append(input[..take]);
        var found = _buffer.Span[searchFrom..].IndexOf(Delimiter);
        if (found < 0)
        {
            if (take < input.Length || _buffer.Count >= limits.MaxMessageSize + Delimiter.Length)
                throw new NetconfException(NetconfError.TooLarge, $"end-of-message frame exceeds {limits.MaxMessageSize} bytes");
            input = input[take..];
            return false;
        }
        var end = searchFrom + found;
        var consumed = end + Delimiter.Length - before;
        message = _buffer.Take(end);
        input = input[consumed..];
        return true;
    }

    /// <summary>Frames one message; refuses a body that contains the marker, which would end it early.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> message)
    {
        if (message.IndexOf(Delimiter) >= 0)
            throw new NetconfException(NetconfError.Framing, "message contains the end-of-message marker ]]>]]>");
        var framed = new byte[message.Length + Delimiter.Length];
        message.CopyTo(framed);
        Delimiter.CopyTo(framed.AsSpan(message.Length));
        return framed;
    }
}
