using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp.Packets;

/// <summary>draft-ietf-secsh-filexfer-02 §7: SSH_FXP_STATUS — code, error message, language tag.</summary>
internal sealed class StatusPacket(uint requestId, SftpStatusCode code, string message, string languageTag = "") : SftpRequest(requestId)
{
    public const byte Number = 101;

    public override byte Type => Number;

    public SftpStatusCode Code { get; } = code;

    public string Message { get; } = message;

    public string LanguageTag { get; } = languageTag;

    public SftpStatus Status => new(Code, Message);

    public static StatusPacket Read(ref SftpReader reader)
    {
        var id = reader.ReadRequestId();
        var code = (SftpStatusCode)reader.ReadUInt32();
        // §7: message and language tag were added in version 3; some old servers omit them.
        if (reader.Remaining == 0)
        {
            return new StatusPacket(id, code, string.Empty);
        }

        var message = reader.ReadString();
        return new StatusPacket(id, code, message, reader.ReadString());
    }

    protected override void WriteBody(SftpWriter writer)
    {
        writer.WriteUInt32(RequestId);
        writer.WriteUInt32((uint)Code);
        writer.WriteString(Message);
        writer.WriteString(LanguageTag);
    }
}
