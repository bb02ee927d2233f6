using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp.Packets;

/// <summary>draft-ietf-secsh-filexfer-02 §6.8: SSH_FXP_STAT — attributes of a path, following symbolic links.</summary>
internal sealed class StatPacket(uint requestId, string path) : SftpPathRequest(requestId, path)
{
    public const byte Number = 17;

    public override byte Type => Number;

    public static StatPacket Read(ref SftpReader reader)
    {
        var id = reader.ReadRequestId();
        return new StatPacket(id, reader.ReadString());
    }
}
