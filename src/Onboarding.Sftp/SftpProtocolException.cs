namespace Onboarding.Sftp;

/// <summary>What was wrong with bytes received from the peer.</summary>
public enum SftpProtocolError
{
    /// <summary>A field ran past the end of the packet.</summary>
    Truncated,
    /// <summary>A packet or field length exceeds the configured maximum.</summary>
    LengthExceedsMaximum,
    /// <summary>Bytes were left over after the last field of a packet.</summary>
    TrailingData,
    /// <summary>The packet type is not defined by draft-ietf-secsh-filexfer-02.</summary>
    UnknownPacketType,
    /// <summary>A string that must be UTF-8 was not.</summary>
    InvalidUtf8,
    /// <summary>A well-formed packet arrived where the protocol does not allow it.</summary>
    UnexpectedPacket,
    /// <summary>The peer speaks a protocol version other than 3.</summary>
    UnsupportedVersion,
    /// <summary>The stream ended in the middle of a packet or before a response.</summary>
    ConnectionClosed,
}

/// <summary>
/// The peer sent bytes that violate draft-ietf-secsh-filexfer-02. Parsers throw only this type.
/// When the request id could be read, <see cref="RequestId"/> carries it so a server can answer
/// SSH_FX_BAD_MESSAGE instead of dropping the session.
/// </summary>
public sealed class SftpProtocolException : Exception
{
    public SftpProtocolException(SftpProtocolError error, string message, uint? requestId = null)
        : base(message)
    {
        Error = error;
        RequestId = requestId;
    }

    public SftpProtocolException() : this(SftpProtocolError.Truncated, "Malformed SFTP packet.") { }

    public SftpProtocolException(string message) : this(SftpProtocolError.Truncated, message) { }

    public SftpProtocolException(string message, Exception innerException) : base(message, innerException) { }

    public SftpProtocolError Error { get; }

    public uint? RequestId { get; }
}
