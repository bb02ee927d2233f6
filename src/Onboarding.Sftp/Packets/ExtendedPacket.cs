using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp.Packets;

/// <summary>draft-ietf-secsh-filexfer-02 §8: SSH_FXP_EXTENDED — request name, then request-specific data.</summary>
internal sealed class ExtendedPacket(uint requestId, string request, ReadOnlyMemory<byte> data) : SftpRequest(requestId)
{
    public const byte Number = 200;

    public override byte Type => Number;

    public string Request { get; } = request;

    /// <summary>The bytes after the request name; decoded by the extension's own reader.</summary>
    public ReadOnlyMemory<byte> Data { get; } = data;

    public static ExtendedPacket Read(ref SftpReader reader)
    {
        var id = reader.ReadRequestId();
        var name = reader.ReadString();
        return new ExtendedPacket(id, name, reader.ReadRemaining().ToArray());
    }

    protected override void WriteBody(SftpWriter writer)
    {
        writer.WriteUInt32(RequestId);
        writer.WriteString(Request);
        writer.WriteRaw(Data.Span);
    }
}
