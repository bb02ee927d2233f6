using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp.Packets;

/// <summary>draft-ietf-secsh-filexfer-02 §6.6: SSH_FXP_MKDIR — path, attrs.</summary>
internal sealed class MkDirPacket(uint requestId, string path, SftpAttributes attributes) : SftpRequest(requestId)
{
    public const byte Number = 14;

    public override byte Type => Number;

    public string Path { get; } = path;

    public SftpAttributes Attributes { get; } = attributes;

    public static MkDirPacket Read(ref SftpReader reader)
    {
        var id = reader.ReadRequestId();
        var path = reader.ReadString();
        return new MkDirPacket(id, path, SftpAttributes.Read(ref reader));
    }

    protected override void WriteBody(SftpWriter writer)
    {
        writer.WriteUInt32(RequestId);
        writer.WriteString(Path);
        Attributes.Write(writer);
    }
}
