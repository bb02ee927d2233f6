using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp.Packets;

/// <summary>draft-ietf-secsh-filexfer-02 §6.10: SSH_FXP_READLINK — reads the target of a symbolic link.</summary>
internal sealed class ReadLinkPacket(uint requestId, string path) : SftpPathRequest(requestId, path)
{
    public const byte Number = 19;

    public override byte Type => Number;

    public static ReadLinkPacket Read(ref SftpReader reader)
    {
        var id = reader.ReadRequestId();
        return new ReadLinkPacket(id, reader.ReadString());
    }
}
