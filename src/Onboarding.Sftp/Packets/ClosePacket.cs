using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp.Packets;

/// <summary>draft-ietf-secsh-filexfer-02 §6.3: SSH_FXP_CLOSE — closes a file or directory handle; for an upload this is where it is committed.</summary>
internal sealed class ClosePacket(uint requestId, byte[] handle) : SftpHandleRequest(requestId, handle)
{
    public const byte Number = 4;

    public override byte Type => Number;

    public static ClosePacket Read(ref SftpReader reader)
    {
        var id = reader.ReadRequestId();
        return new ClosePacket(id, SftpHandle.Read(ref reader));
    }
}
