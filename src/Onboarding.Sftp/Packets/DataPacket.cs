using System.Buffers.Binary;
using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp.Packets;

/// <summary>draft-ietf-secsh-filexfer-02 §7: SSH_FXP_DATA — the bytes answering a READ.</summary>
internal sealed class DataPacket(uint requestId, ReadOnlyMemory<byte> data) : SftpRequest(requestId)
{
    public const byte Number = 103;

    /// <summary>uint32 length, byte type, uint32 id, uint32 data length.</summary>
    public const int FrameHeaderLength = 13;

    private byte[]? _frame;
    private int _frameLength;

    public override byte Type => Number;

    public ReadOnlyMemory<byte> Data { get; } = data;

    protected override int SizeHint => Data.Length + 16;

    /// <summary>
    /// A frame whose data the server read in place at <see cref="FrameHeaderLength"/> of a pooled
    /// buffer, so a READ answer is not copied again. The caller returns <see cref="PooledFrame"/>
    /// to the pool once the frame is written.
    /// </summary>
    public static DataPacket FromPooledFrame(uint requestId, byte[] frame, int dataLength)
    {
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)(FrameHeaderLength - 4 + dataLength));
        frame[4] = Number;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(5), requestId);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(9), (uint)dataLength);
        return new DataPacket(requestId, frame.AsMemory(FrameHeaderLength, dataLength))
        {
            _frame = frame,
            _frameLength = FrameHeaderLength + dataLength,
        };
    }

    public byte[]? PooledFrame => _frame;

    public override ReadOnlyMemory<byte> ToFrame() => _frame is null ? base.ToFrame() : _frame.AsMemory(0, _frameLength);

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
