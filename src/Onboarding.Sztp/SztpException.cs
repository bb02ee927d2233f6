namespace Onboarding.Sztp;

/// <summary>What was wrong with an SZTP artifact or RPC body; callers map it to a RESTCONF error or a device refusal.</summary>
public enum SztpError
{
    /// <summary>Not well-formed: bad DER, JSON or XML, a wrong value type, bad base64, a missing mandatory leaf.</summary>
    Malformed,
    /// <summary>Larger than the configured bound (bytes, depth or list length).</summary>
    TooLarge,
    /// <summary>A CMS content type or eContentType other than the expected one(s).</summary>
    WrongContentType,
    /// <summary>A leaf, element or enum value the YANG module does not define.</summary>
    UnknownNode,
    /// <summary>A CMS signature that does not verify.</summary>
    BadSignature,
    /// <summary>The signer, owner certificate or voucher does not chain to what is trusted.</summary>
    UntrustedSigner,
    /// <summary>An ownership voucher for another device, expired, or with the wrong nonce.</summary>
    VoucherMismatch,
}

/// <summary>A typed refusal of SZTP input: every parser and verifier here throws only this for bad input.</summary>
public sealed class SztpException : Exception
{
    public SztpException(SztpError error, string message, Exception? inner = null) : base(message, inner) => Error = error;

    public SztpException() : this(SztpError.Malformed, "malformed SZTP input") { }

    public SztpException(string message) : this(SztpError.Malformed, message) { }

    public SztpException(string message, Exception inner) : this(SztpError.Malformed, message, inner) { }

    public SztpError Error { get; }
}
