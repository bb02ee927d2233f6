using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp.Packets;

/// <summary>draft-ietf-secsh-filexfer-02 §7: SSH_FXP_DATA — the bytes answering a READ.</summary>
internal sealed class DataPacket(uint requestId, ReadOnlyMemory<byte> data) : SftpRequest(requestId)
{
    public const byte Number = 103;

    public override byte Type => Number;

    public ReadOnlyMemory<byte> Data { get; } = data;

    protected override int SizeHint => Data.Length + 16;

    public static DataPacket Read(ref SftpReader reader)
    {
        var id = reader.ReadRequestId();
        return new DataPacket(id, reader.ReadBinary());
    }

    protected override void WriteBody(SftpWriter writer)
    {
        writer.WriteUInt32(RequestId);
        writer.WriteBinary(Data.Span);
    }
}
