using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp.Packets;

/// <summary>draft-ietf-secsh-filexfer-02 §6.5: SSH_FXP_RENAME — oldpath, newpath.</summary>
internal sealed class RenamePacket(uint requestId, string oldPath, string newPath) : SftpRequest(requestId)
{
    public const byte Number = 18;

    public override byte Type => Number;

    public string OldPath { get; } = oldPath;

    public string NewPath { get; } = newPath;

    public static RenamePacket Read(ref SftpReader reader)
    {
        var id = reader.ReadRequestId();
        var oldPath = reader.ReadString();
        return new RenamePacket(id, oldPath, reader.ReadString());
    }

    protected override void WriteBody(SftpWriter writer)
    {
        writer.WriteUInt32(RequestId);
        writer.WriteString(OldPath);
        writer.WriteString(NewPath);
    }
}
