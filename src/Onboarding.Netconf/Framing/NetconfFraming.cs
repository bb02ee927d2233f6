namespace Onboarding.Netconf.Framing;

/// <summary>The two RFC 6242 framings: base:1.0 end-of-message (§4.3) and base:1.1 chunked (§4.2).</summary>
public enum NetconfFraming
{
    EndOfMessage,
    Chunked,
}

/// <summary>An incremental decoder: feed bytes as they arrive, in any pieces; it yields whole messages.</summary>
public interface INetconfFrameDecoder
{
    /// <summary>
    /// Consumes bytes from <paramref name="input"/> up to the end of at most one message. Returns true with the message
    /// when one completed (the bytes after it stay in <paramref name="input"/>: they may belong to another framing, RFC
    /// 6242 §4.1); false when all input was consumed without completing one. Throws <see cref="NetconfException"/>.
    /// </summary>
    bool TryDecode(ref ReadOnlySpan<byte> input, out byte[]? message);

    /// <summary>True between messages: EOF here is a clean close, anywhere else a truncated message.</summary>
    bool AtMessageBoundary { get; }
}

/// <summary>Bounds for one direction of a session.</summary>
public sealed record NetconfFramingLimits
{
    /// <summary>RFC 6242 §4.2: chunk-size is at most 4294967295.</summary>
    public const uint RfcMaxChunkSize = uint.MaxValue;

    /// <summary>Largest message we accept; each framing counts the message body, not its markers.</summary>
    public int MaxMessageSize { get; init; } = 16 * 1024 * 1024;

    /// <summary>Largest chunk we accept (RFC maximum 4294967295, bounded by ours).</summary>
    public int MaxChunkSize { get; init; } = 16 * 1024 * 1024;

    /// <summary>Chunk size we write: SSH channel packets are 32 KiB, so larger chunks gain nothing.</summary>
    public int WriteChunkSize { get; init; } = 32 * 1024;

    public static NetconfFramingLimits Default { get; } = new();
}
