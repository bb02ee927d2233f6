using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp.Packets;

/// <summary>draft-ietf-secsh-filexfer-02 §6.6: SSH_FXP_RMDIR — removes a directory.</summary>
internal sealed class RmDirPacket(uint requestId, string path) : SftpPathRequest(requestId, path)
{
    public const byte Number = 15;

    public override byte Type => Number;

    public static RmDirPacket Read(ref SftpReader reader)
    {
        var id = reader.ReadRequestId();
        return new RmDirPacket(id, reader.ReadString());
    }
}
