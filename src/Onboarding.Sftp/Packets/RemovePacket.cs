using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp.Packets;

/// <summary>draft-ietf-secsh-filexfer-02 §6.5: SSH_FXP_REMOVE — removes a file.</summary>
internal sealed class RemovePacket(uint requestId, string path) : SftpPathRequest(requestId, path)
{
    public const byte Number = 13;

    public override byte Type => Number;

    public static RemovePacket Read(ref SftpReader reader)
    {
        var id = reader.ReadRequestId();
        return new RemovePacket(id, reader.ReadString());
    }
}
