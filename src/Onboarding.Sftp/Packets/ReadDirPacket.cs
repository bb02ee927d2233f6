using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp.Packets;

/// <summary>draft-ietf-secsh-filexfer-02 §6.7: SSH_FXP_READDIR — reads the next batch of directory entries.</summary>
internal sealed class ReadDirPacket(uint requestId, byte[] handle) : SftpHandleRequest(requestId, handle)
{
    public const byte Number = 12;

    public override byte Type => Number;

    public static ReadDirPacket Read(ref SftpReader reader)
    {
        var id = reader.ReadRequestId();
        return new ReadDirPacket(id, SftpHandle.Read(ref reader));
    }
}
