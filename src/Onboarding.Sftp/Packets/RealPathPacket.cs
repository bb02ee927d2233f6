using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp.Packets;

/// <summary>draft-ietf-secsh-filexfer-02 §6.10: SSH_FXP_REALPATH — canonicalises a path.</summary>
internal sealed class RealPathPacket(uint requestId, string path) : SftpPathRequest(requestId, path)
{
    public const byte Number = 16;

    public override byte Type => Number;

    public static RealPathPacket Read(ref SftpReader reader)
    {
        var id = reader.ReadRequestId();
        return new RealPathPacket(id, reader.ReadString());
    }
}
