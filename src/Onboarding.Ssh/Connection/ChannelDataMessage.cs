using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.Connection;

/// <summary>RFC 4254 §5.2 SSH_MSG_CHANNEL_DATA and SSH_MSG_CHANNEL_EXTENDED_DATA (DataTypeCode set).</summary>
internal static class ChannelDataMessage
{
    public const byte Number = 94;
    public const byte ExtendedNumber = 95;

    /// <summary>Returns the recipient channel, the extended type (null for plain data) and the data (a slice of the payload).</summary>
    public static (uint Recipient, uint? DataType, ReadOnlyMemory<byte> Data) Read(byte[] payload)
    {
        var r = new SshReader(payload);
        var number = r.ReadByte();
        var recipient = r.ReadUInt32();
        uint? type = number == ExtendedNumber ? r.ReadUInt32() : null;
        var data = r.ReadString();
        r.EnsureEnd();
        var offset = payload.Length - data.Length;
        return (recipient, type, payload.AsMemory(offset, data.Length));
    }

    /// <summary>RFC 4254 §5.2: SSH_EXTENDED_DATA_STDERR.</summary>
    public const uint StderrDataType = 1;

    /// <summary>Writes SSH_MSG_CHANNEL_DATA, or SSH_MSG_CHANNEL_EXTENDED_DATA when <paramref name="dataType"/> is set.</summary>
    public static void Write(SshWriter w, uint recipient, ReadOnlySpan<byte> data, uint? dataType = null)
    {
        w.WriteByte(dataType is null ? Number : ExtendedNumber);
        w.WriteUInt32(recipient);
        if (dataType is { } type)
            w.WriteUInt32(type);
        w.WriteString(data);
    }
}
