using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp.Packets;

/// <summary>
/// draft-ietf-secsh-filexfer-02 §6.10: SSH_FXP_SYMLINK. The draft orders the fields
/// linkpath, targetpath, but OpenSSH (PROTOCOL §3.1: "SSH_FXP_SYMLINK has its arguments
/// reversed") sends and expects targetpath first. Every client we interoperate with follows
/// OpenSSH, so we do too: the first string is the target, the second the link to create.
/// </summary>
internal sealed class SymlinkPacket(uint requestId, string targetPath, string linkPath) : SftpRequest(requestId)
{
    public const byte Number = 20;

    public override byte Type => Number;

    public string TargetPath { get; } = targetPath;

    public string LinkPath { get; } = linkPath;

    public static SymlinkPacket Read(ref SftpReader reader)
    {
        var id = reader.ReadRequestId();
        var target = reader.ReadString();
        return new SymlinkPacket(id, target, reader.ReadString());
    }

    protected override void WriteBody(SftpWriter writer)
    {
        writer.WriteUInt32(RequestId);
        writer.WriteString(TargetPath);
        writer.WriteString(LinkPath);
    }
}
