namespace Onboarding.Sftp;

/// <summary>draft-ietf-secsh-filexfer-02 §6.3: pflags of SSH_FXP_OPEN.</summary>
[Flags]
#pragma warning disable CA1711 // "Flags" is the draft's own name for this field.
public enum SftpOpenFlags : uint
#pragma warning restore CA1711
{
    None = 0,
    Read = 0x01,
    Write = 0x02,
    Append = 0x04,
    Create = 0x08,
    Truncate = 0x10,
    Exclusive = 0x20,
}
