namespace Onboarding.Sftp;

/// <summary>draft-ietf-secsh-filexfer-02 §7: SSH_FXP_STATUS error codes.</summary>
public enum SftpStatusCode : uint
{
    Ok = 0,
    Eof = 1,
    NoSuchFile = 2,
    PermissionDenied = 3,
    Failure = 4,
    BadMessage = 5,
    NoConnection = 6,
    ConnectionLost = 7,
    OpUnsupported = 8,
}
