namespace Onboarding.Sftp;

/// <summary>
/// One name of SSH_FXP_NAME (draft-ietf-secsh-filexfer-02 §7): the file name, an `ls -l` style
/// long name (which OpenSSH's sftp client prints verbatim for `ls -l`), and attributes.
/// </summary>
public sealed record SftpFileEntry(string FileName, string LongName, SftpAttributes Attributes);

/// <summary>statvfs@openssh.com reply fields (OpenSSH PROTOCOL §4.4), in wire order.</summary>
public sealed record SftpStatVfs(
    ulong BlockSize,
    ulong FragmentSize,
    ulong Blocks,
    ulong FreeBlocks,
    ulong AvailableBlocks,
    ulong Files,
    ulong FreeFiles,
    ulong AvailableFiles,
    ulong FileSystemId,
    ulong Flags,
    ulong MaxNameLength);

/// <summary>limits@openssh.com reply fields (OpenSSH PROTOCOL §4.8). Zero means "no limit given".</summary>
public sealed record SftpLimits(ulong MaxPacketLength, ulong MaxReadLength, ulong MaxWriteLength, ulong MaxOpenHandles);
