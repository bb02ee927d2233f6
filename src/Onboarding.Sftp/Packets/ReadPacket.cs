using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp.Packets;

/// <summary>draft-ietf-secsh-filexfer-02 §6.4: SSH_FXP_READ — handle, uint64 offset, uint32 len.</summary>
internal sealed class ReadPacket(uint requestId, byte[] handle, ulong offset, uint length) : SftpRequest(requestId)
{
    public const byte Number = 5;

    public override byte Type => Number;

    public byte[] Handle { get; } = handle;

    public ulong Offset { get; } = offset;

    public uint Length { get; } = length;

    public static ReadPacket Read(ref SftpReader reader)
    {
        var id = reader.ReadRequestId();
        var handle = SftpHandle.Read(ref reader);
        var offset = reader.ReadUInt64();
        return new ReadPacket(id, handle, offset, reader.ReadUInt32());
    }

    protected override void WriteBody(SftpWriter writer)
    {
        writer.WriteUInt32(RequestId);
        writer.WriteBinary(Handle);
        writer.WriteUInt64(Offset);
        writer.WriteUInt32(Length);
    }
}
