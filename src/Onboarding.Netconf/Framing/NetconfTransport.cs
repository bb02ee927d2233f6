namespace Onboarding.Netconf.Framing;

/// <summary>
/// Whole NETCONF messages over a byte stream (an SSH "netconf" subsystem channel), shared by both roles. Starts in
/// end-of-message framing for the hellos and switches both directions to chunked after them (RFC 6242 §4.1); bytes
/// already read past the last hello are decoded with the new framing. One reader and one writer at a time (the
/// sessions serialise their RPCs); owns no lifetime: the caller disposes the stream.
/// </summary>
public sealed class NetconfTransport
{
    private readonly Stream _stream;
    private readonly NetconfFramingLimits _limits;
    private readonly byte[] _readBuffer = new byte[16 * 1024];
    private int _readStart;
    private int _readEnd;
    private INetconfFrameDecoder _decoder;

    public NetconfTransport(Stream stream, NetconfFramingLimits? limits = null)
    {
        _stream = stream;
        _limits = limits ?? NetconfFramingLimits.Default;
        _decoder = new EndOfMessageDecoder(_limits);
    }

    public NetconfFraming Framing { get; private set; } = NetconfFraming.EndOfMessage;

    /// <summary>RFC 6242 §4.1: after both hellos, when both sides advertised base:1.1.</summary>
    public void SwitchToChunked()
    {
        if (Framing == NetconfFraming.Chunked)
            return;
        if (!_decoder.AtMessageBoundary)
            throw new InvalidOperationException("framing can only change between messages");
        Framing = NetconfFraming.Chunked;
        _decoder = new ChunkedDecoder(_limits);
    }

    /// <summary>The next message, or null when the peer closed the stream between messages.</summary>
    public async ValueTask<byte[]?> ReadMessageAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (_readEnd > _readStart)
            {
                ReadOnlySpan<byte> pending = _readBuffer.AsSpan(_readStart, _readEnd - _readStart);
                var before = pending.Length;
                var done = _decoder.TryDecode(ref pending, out var message);
                _readStart += before - pending.Length;
                if (done)
                    return message;
            }
            _readStart = 0;
            _readEnd = await _stream.ReadAsync(_readBuffer, cancellationToken).ConfigureAwait(false);
            if (_readEnd == 0)
            {
                if (_decoder.AtMessageBoundary)
                    return null;
                throw new NetconfException(NetconfError.Closed, "the peer closed the stream in the middle of a message");
            }
        }
    }

    /// <summary>
    /// A line feed that becomes the start of our next message: leading whitespace before its root element (end-of-message
    /// framing), or a first one-byte chunk of it (chunked framing). Only for <see cref="NetconfClientOptions.FirstReplyNudge"/>.
    /// </summary>
    public async ValueTask WriteNextMessageWhitespaceAsync(CancellationToken cancellationToken = default)
    {
        var whitespace = Framing == NetconfFraming.Chunked ? "\n#1\n\n"u8.ToArray() : "\n"u8.ToArray();
        await _stream.WriteAsync(whitespace, cancellationToken).ConfigureAwait(false);
        await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask WriteMessageAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        var framed = Framing == NetconfFraming.Chunked
            ? ChunkedDecoder.Encode(message.Span, _limits.WriteChunkSize)
            : EndOfMessageDecoder.Encode(message.Span);
        await _stream.WriteAsync(framed, cancellationToken).ConfigureAwait(false);
        await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
