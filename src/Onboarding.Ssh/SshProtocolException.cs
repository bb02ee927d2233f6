namespace Onboarding.Ssh;

/// <summary>A peer sent something the SSH protocol does not allow; the session ends with this reason.</summary>
public class SshProtocolException(SshDisconnectReason reason, string message) : Exception(message)
{
    public SshDisconnectReason Reason { get; } = reason;
}

/// <summary>RFC 4253 §11.1 disconnection reason codes.</summary>
public enum SshDisconnectReason : uint
{
    HostNotAllowedToConnect = 1,
    ProtocolError = 2,
    KeyExchangeFailed = 3,
    Reserved = 4,
    MacError = 5,
    CompressionError = 6,
    ServiceNotAvailable = 7,
    ProtocolVersionNotSupported = 8,
    HostKeyNotVerifiable = 9,
    ConnectionLost = 10,
    ByApplication = 11,
    TooManyConnections = 12,
    AuthCancelledByUser = 13,
    NoMoreAuthMethodsAvailable = 14,
    IllegalUserName = 15,
}
