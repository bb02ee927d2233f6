using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp.Packets;

/// <summary>draft-ietf-secsh-filexfer-02 §6.8: SSH_FXP_LSTAT — attributes of a path without following symbolic links.</summary>
internal sealed class LStatPacket(uint requestId, string path) : SftpPathRequest(requestId, path)
{
    public const byte Number = 7;

    public override byte Type => Number;

    public static LStatPacket Read(ref SftpReader reader)
    {
        var id = reader.ReadRequestId();
        return new LStatPacket(id, reader.ReadString());
    }
}
