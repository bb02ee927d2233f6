using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.Connection;

/// <summary>RFC 4254 §5.1 SSH_MSG_CHANNEL_OPEN (type-specific data is not used for "session").</summary>
internal readonly record struct ChannelOpenMessage(string ChannelType, uint SenderChannel, uint InitialWindowSize, uint MaximumPacketSize)
{
    public const byte Number = 90;

    public static ChannelOpenMessage Read(ref SshReader r)
    {
        r.ReadByte();
        return new ChannelOpenMessage(r.ReadAscii(), r.ReadUInt32(), r.ReadUInt32(), r.ReadUInt32());
    }

    public void Write(SshWriter w)
    {
        w.WriteByte(Number);
        w.WriteString(ChannelType);
        w.WriteUInt32(SenderChannel);
        w.WriteUInt32(InitialWindowSize);
        w.WriteUInt32(MaximumPacketSize);
    }
}
