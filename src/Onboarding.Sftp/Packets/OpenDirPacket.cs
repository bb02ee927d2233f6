using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp.Packets;

/// <summary>draft-ietf-secsh-filexfer-02 §6.7: SSH_FXP_OPENDIR — opens a directory for reading.</summary>
internal sealed class OpenDirPacket(uint requestId, string path) : SftpPathRequest(requestId, path)
{
    public const byte Number = 11;

    public override byte Type => Number;

    public static OpenDirPacket Read(ref SftpReader reader)
    {
        var id = reader.ReadRequestId();
        return new OpenDirPacket(id, reader.ReadString());
    }
}
