using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp.Packets;

/// <summary>draft-ietf-secsh-filexfer-02 §7: SSH_FXP_ATTRS — attributes answering STAT/LSTAT/FSTAT.</summary>
internal sealed class AttrsPacket(uint requestId, SftpAttributes attributes) : SftpRequest(requestId)
{
    public const byte Number = 105;

    public override byte Type => Number;

    public SftpAttributes Attributes { get; } = attributes;

    public static AttrsPacket Read(ref SftpReader reader)
    {
        var id = reader.ReadRequestId();
        return new AttrsPacket(id, SftpAttributes.Read(ref reader));
    }

    protected override void WriteBody(SftpWriter writer)
    {
        writer.WriteUInt32(RequestId);
        Attributes.Write(writer);
    }
}
