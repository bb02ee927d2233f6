namespace Onboarding.Ssh;

/// <summary>The transport ended: the peer closed the stream, or sent SSH_MSG_DISCONNECT.</summary>
public class SshConnectionLostException : Exception
{
    public SshConnectionLostException()
    {
    }

    public SshConnectionLostException(string message)
        : base(message)
    {
    }

    public SshConnectionLostException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The reason the peer gave in SSH_MSG_DISCONNECT, if it sent one.</summary>
    public SshDisconnectReason? PeerReason { get; init; }
}
