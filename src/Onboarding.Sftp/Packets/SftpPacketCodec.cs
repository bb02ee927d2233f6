using System.Buffers;
using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp.Packets;

/// <summary>Turns one packet payload (type byte first, as sliced by <see cref="SftpFrameReader"/>) into a packet object.</summary>
internal static class SftpPacketCodec
{
    public static SftpPacket Decode(ReadOnlySequence<byte> payload)
    {
        if (payload.IsSingleSegment)
        {
            return Decode(payload.FirstSpan);
        }

        // The frame reader bounded the length by the configured maximum already.
        var length = (int)payload.Length;
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            payload.CopyTo(rented);
            return Decode(rented.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Decodes a whole packet; leftover bytes are an error (§3: the length covers exactly the packet).</summary>
    public static SftpPacket Decode(ReadOnlySpan<byte> payload)
    {
        var reader = new SftpReader(payload);
        var type = reader.ReadByte();
        SftpPacket packet = type switch
        {
            InitPacket.Number => InitPacket.Read(ref reader),
            VersionPacket.Number => VersionPacket.Read(ref reader),
            OpenPacket.Number => OpenPacket.Read(ref reader),
            ClosePacket.Number => ClosePacket.Read(ref reader),
            ReadPacket.Number => ReadPacket.Read(ref reader),
            WritePacket.Number => WritePacket.Read(ref reader),
            LStatPacket.Number => LStatPacket.Read(ref reader),
            FStatPacket.Number => FStatPacket.Read(ref reader),
            SetStatPacket.Number => SetStatPacket.Read(ref reader),
            FSetStatPacket.Number => FSetStatPacket.Read(ref reader),
            OpenDirPacket.Number => OpenDirPacket.Read(ref reader),
            ReadDirPacket.Number => ReadDirPacket.Read(ref reader),
            RemovePacket.Number => RemovePacket.Read(ref reader),
            MkDirPacket.Number => MkDirPacket.Read(ref reader),
            RmDirPacket.Number => RmDirPacket.Read(ref reader),
            RealPathPacket.Number => RealPathPacket.Read(ref reader),
            StatPacket.Number => StatPacket.Read(ref reader),
            RenamePacket.Number => RenamePacket.Read(ref reader),
            ReadLinkPacket.Number => ReadLinkPacket.Read(ref reader),
            SymlinkPacket.Number => SymlinkPacket.Read(ref reader),
            StatusPacket.Number => StatusPacket.Read(ref reader),
            HandlePacket.Number => HandlePacket.Read(ref reader),
            DataPacket.Number => DataPacket.Read(ref reader),
            NamePacket.Number => NamePacket.Read(ref reader),
            AttrsPacket.Number => AttrsPacket.Read(ref reader),
            ExtendedPacket.Number => ExtendedPacket.Read(ref reader),
            ExtendedReplyPacket.Number => ExtendedReplyPacket.Read(ref reader),
            _ => throw UnknownType(type, payload),
        };
        reader.EnsureEnd();
        return packet;
    }

    private static SftpProtocolException UnknownType(byte type, ReadOnlySpan<byte> payload)
    {
        // §3: every request after INIT carries an id; report it so the server can answer OP_UNSUPPORTED.
        uint? id = payload.Length >= 5 ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(payload[1..]) : null;
        return new SftpProtocolException(SftpProtocolError.UnknownPacketType, $"unknown packet type {type}", id);
    }
}
