using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp.Packets;

/// <summary>draft-ietf-secsh-filexfer-02 §6.9: SSH_FXP_FSETSTAT — handle, attrs.</summary>
internal sealed class FSetStatPacket(uint requestId, byte[] handle, SftpAttributes attributes) : SftpRequest(requestId)
{
    public const byte Number = 10;

    public override byte Type => Number;

    public byte[] Handle { get; } = handle;

    public SftpAttributes Attributes { get; } = attributes;

    public static FSetStatPacket Read(ref SftpReader reader)
    {
        var id = reader.ReadRequestId();
        var handle = SftpHandle.Read(ref reader);
        return new FSetStatPacket(id, handle, SftpAttributes.Read(ref reader));
    }

    protected override void WriteBody(SftpWriter writer)
    {
        writer.WriteUInt32(RequestId);
        writer.WriteBinary(Handle);
        Attributes.Write(writer);
    }
}
