using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp.Packets;

/// <summary>draft-ietf-secsh-filexfer-02 §8: SSH_FXP_EXTENDED_REPLY — request id, then reply-specific data.</summary>
internal sealed class ExtendedReplyPacket(uint requestId, ReadOnlyMemory<byte> data) : SftpRequest(requestId)
{
    public const byte Number = 201;

    public override byte Type => Number;

    public ReadOnlyMemory<byte> Data { get; } = data;

    public static ExtendedReplyPacket Read(ref SftpReader reader)
    {
        var id = reader.ReadRequestId();
        return new ExtendedReplyPacket(id, reader.ReadRemaining().ToArray());
    }

    protected override void WriteBody(SftpWriter writer)
    {
        writer.WriteUInt32(RequestId);
        writer.WriteRaw(Data.Span);
    }
}
