using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp.Packets;

/// <summary>One SFTP packet (draft-ietf-secsh-filexfer-02 §3): a type byte and type-specific data.</summary>
internal abstract class SftpPacket
{
    public abstract byte Type { get; }

    /// <summary>A size hint so large DATA/WRITE packets are built without regrowing.</summary>
    protected virtual int SizeHint => 64;

    protected abstract void WriteBody(SftpWriter writer);

    /// <summary>The framed packet: uint32 length, type byte, data.</summary>
    public virtual ReadOnlyMemory<byte> ToFrame()
    {
        var writer = new SftpWriter(SizeHint + 9);
        writer.WriteByte(Type);
        WriteBody(writer);
        return writer.ToFrame();
    }
}

/// <summary>§3: every packet except INIT/VERSION carries a request id chosen by the client.</summary>
internal abstract class SftpRequest(uint requestId) : SftpPacket
{
    public uint RequestId { get; } = requestId;
}

/// <summary>Requests whose only field after the id is a path (§6.5, §6.6, §6.7, §6.8, §6.10).</summary>
internal abstract class SftpPathRequest(uint requestId, string path) : SftpRequest(requestId)
{
    public string Path { get; } = path;

    protected override void WriteBody(SftpWriter writer)
    {
        writer.WriteUInt32(RequestId);
        writer.WriteString(Path);
    }
}

/// <summary>Requests whose only field after the id is a handle (§6.3 CLOSE, §6.7 READDIR, §6.8 FSTAT).</summary>
internal abstract class SftpHandleRequest(uint requestId, byte[] handle) : SftpRequest(requestId)
{
    public byte[] Handle { get; } = handle;

    protected override void WriteBody(SftpWriter writer)
    {
        writer.WriteUInt32(RequestId);
        writer.WriteBinary(Handle);
    }
}

internal static class SftpHandle
{
    /// <summary>§6.2: "handle strings MUST NOT be longer than 256 bytes".</summary>
    public const int MaxLength = 256;

    public static byte[] Read(ref SftpReader reader)
    {
        var span = reader.ReadBinarySpan();
        if (span.Length > MaxLength)
        {
            throw reader.Error(SftpProtocolError.LengthExceedsMaximum, $"handle of {span.Length} bytes exceeds {MaxLength}");
        }

        return span.ToArray();
    }
}
