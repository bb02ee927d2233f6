using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp.Packets;

/// <summary>draft-ietf-secsh-filexfer-02 §6.4: SSH_FXP_WRITE — handle, uint64 offset, string data.</summary>
internal sealed class WritePacket(uint requestId, byte[] handle, ulong offset, ReadOnlyMemory<byte> data) : SftpRequest(requestId)
{
    public const byte Number = 6;

    public override byte Type => Number;

    public byte[] Handle { get; } = handle;

    public ulong Offset { get; } = offset;

    public ReadOnlyMemory<byte> Data { get; } = data;

    protected override int SizeHint => Data.Length + Handle.Length + 24;

    public static WritePacket Read(ref SftpReader reader)
    {
        var id = reader.ReadRequestId();
        var handle = SftpHandle.Read(ref reader);
        var offset = reader.ReadUInt64();
        return new WritePacket(id, handle, offset, reader.ReadBinary());
    }

    protected override void WriteBody(SftpWriter writer)
    {
        writer.WriteUInt32(RequestId);
        writer.WriteBinary(Handle);
        writer.WriteUInt64(Offset);
        writer.WriteBinary(Data.Span);
    }
}
