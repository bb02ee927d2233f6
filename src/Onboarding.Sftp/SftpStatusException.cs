namespace Onboarding.Sftp;

/// <summary>The server answered a client request with a non-OK SSH_FXP_STATUS.</summary>
public sealed class SftpStatusException : Exception
{
    public SftpStatusException(SftpStatusCode code, string message) : base(message) => Code = code;

    public SftpStatusException(SftpStatus status) : this(status.Code, status.Message) { }

    public SftpStatusException() : this(SftpStatusCode.Failure, "Failure") { }

    public SftpStatusException(string message) : this(SftpStatusCode.Failure, message) { }

    public SftpStatusException(string message, Exception innerException) : base(message, innerException) => Code = SftpStatusCode.Failure;

    public SftpStatusCode Code { get; }

    public SftpStatus Status => new(Code, Message);
}
