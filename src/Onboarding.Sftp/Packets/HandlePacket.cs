using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp.Packets;

/// <summary>draft-ietf-secsh-filexfer-02 §7: SSH_FXP_HANDLE — the handle of an opened file or directory.</summary>
internal sealed class HandlePacket(uint requestId, byte[] handle) : SftpHandleRequest(requestId, handle)
{
    public const byte Number = 102;

    public override byte Type => Number;

    public static HandlePacket Read(ref SftpReader reader)
    {
        var id = reader.ReadRequestId();
        return new HandlePacket(id, SftpHandle.Read(ref reader));
    }
}
