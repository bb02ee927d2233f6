using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp.Packets;

/// <summary>draft-ietf-secsh-filexfer-02 §6.9: SSH_FXP_SETSTAT — path, attrs.</summary>
internal sealed class SetStatPacket(uint requestId, string path, SftpAttributes attributes) : SftpRequest(requestId)
{
    public const byte Number = 9;

    public override byte Type => Number;

    public string Path { get; } = path;

    public SftpAttributes Attributes { get; } = attributes;

    public static SetStatPacket Read(ref SftpReader reader)
    {
        var id = reader.ReadRequestId();
        var path = reader.ReadString();
        return new SetStatPacket(id, path, SftpAttributes.Read(ref reader));
    }

    protected override void WriteBody(SftpWriter writer)
    {
        writer.WriteUInt32(RequestId);
        writer.WriteString(Path);
        Attributes.Write(writer);
    }
}
