using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp.Packets;

/// <summary>draft-ietf-secsh-filexfer-02 §6.8: SSH_FXP_FSTAT — attributes of an open handle.</summary>
internal sealed class FStatPacket(uint requestId, byte[] handle) : SftpHandleRequest(requestId, handle)
{
    public const byte Number = 8;

    public override byte Type => Number;

    public static FStatPacket Read(ref SftpReader reader)
    {
        var id = reader.ReadRequestId();
        return new FStatPacket(id, SftpHandle.Read(ref reader));
    }
}
