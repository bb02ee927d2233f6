using System.Buffers;
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

    /// <summary>Set when <see cref="Data"/> lives in a buffer rented by <see cref="Read"/>; see <see cref="ReturnPooledBuffer"/>.</summary>
    public byte[]? PooledBuffer { get; private set; }

    /// <summary>
    /// Decodes the packet, copying the data into a buffer rented from <see cref="ArrayPool{T}.Shared"/>
    /// (WRITE data of up to 256 KiB would otherwise land on the large object heap for every request).
    /// </summary>
    public static WritePacket Read(ref SftpReader reader)
    {
        var id = reader.ReadRequestId();
        var handle = SftpHandle.Read(ref reader);
        var offset = reader.ReadUInt64();
        var data = reader.ReadBinarySpan();
        var buffer = ArrayPool<byte>.Shared.Rent(data.Length);
        data.CopyTo(buffer);
        return new WritePacket(id, handle, offset, buffer.AsMemory(0, data.Length)) { PooledBuffer = buffer };
    }

    /// <summary>Gives the rented data buffer back once nothing reads <see cref="Data"/> any more.</summary>
    public void ReturnPooledBuffer()
    {
        if (PooledBuffer is { } buffer)
        {
            PooledBuffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    protected override void WriteBody(SftpWriter writer)
    {
        writer.WriteUInt32(RequestId);
        writer.WriteBinary(Handle);
        writer.WriteUInt64(Offset);
        writer.WriteBinary(Data.Span);
    }
}
