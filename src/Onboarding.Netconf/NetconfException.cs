namespace Onboarding.Netconf;

/// <summary>What was wrong with NETCONF input or the session; callers log it and close the channel.</summary>
public enum NetconfError
{
    /// <summary>RFC 6242 §4.2/§4.3 framing violated: bad chunk header, leading zero, chunk-size 0 or above 4294967295.</summary>
    Framing,
    /// <summary>A message, chunk or preamble larger than the configured bound.</summary>
    TooLarge,
    /// <summary>Not well-formed XML, a DTD, or nested deeper than the bound.</summary>
    MalformedXml,
    /// <summary>Well-formed XML that is not the expected NETCONF message (wrong root, missing session-id, bad message-id).</summary>
    Protocol,
    /// <summary>The hellos share no base capability (RFC 6241 §8.1).</summary>
    NoCommonBase,
    /// <summary>The peer closed the stream in the middle of a message or before answering.</summary>
    Closed,
    /// <summary>A Juniper outbound-ssh DEVICE-CONN-INFO preamble that is not well-formed.</summary>
    MalformedPreamble,
}

/// <summary>A typed refusal of NETCONF input: the framing decoders, XML readers and sessions throw only this for bad input.</summary>
public sealed class NetconfException : Exception
{
    public NetconfException(NetconfError error, string message, Exception? inner = null) : base(message, inner) => Error = error;

    public NetconfException() : this(NetconfError.Protocol, "NETCONF protocol error") { }

    public NetconfException(string message) : this(NetconfError.Protocol, message) { }

    public NetconfException(string message, Exception inner) : this(NetconfError.Protocol, message, inner) { }

    public NetconfError Error { get; }
}
