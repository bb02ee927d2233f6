using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp.Packets;

/// <summary>draft-ietf-secsh-filexfer-02 §6.3: SSH_FXP_OPEN — filename, pflags, attrs.</summary>
internal sealed class OpenPacket(uint requestId, string path, SftpOpenFlags flags, SftpAttributes attributes) : SftpRequest(requestId)
{
    public const byte Number = 3;

    public override byte Type => Number;

    public string Path { get; } = path;

    public SftpOpenFlags Flags { get; } = flags;

    public SftpAttributes Attributes { get; } = attributes;

    public static OpenPacket Read(ref SftpReader reader)
    {
        var id = reader.ReadRequestId();
        var path = reader.ReadString();
        var flags = (SftpOpenFlags)reader.ReadUInt32();
        return new OpenPacket(id, path, flags, SftpAttributes.Read(ref reader));
    }

    protected override void WriteBody(SftpWriter writer)
    {
        writer.WriteUInt32(RequestId);
        writer.WriteString(Path);
        writer.WriteUInt32((uint)Flags);
        Attributes.Write(writer);
    }
}
