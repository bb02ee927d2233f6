using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.Connection;

/// <summary>RFC 4254 §5.1 SSH_MSG_CHANNEL_OPEN_CONFIRMATION.</summary>
internal readonly record struct ChannelOpenConfirmationMessage(uint RecipientChannel, uint SenderChannel, uint InitialWindowSize, uint MaximumPacketSize)
{
    public const byte Number = 91;

    public static ChannelOpenConfirmationMessage Read(ref SshReader r)
    {
        r.ReadByte();
        return new ChannelOpenConfirmationMessage(r.ReadUInt32(), r.ReadUInt32(), r.ReadUInt32(), r.ReadUInt32());
    }

    public void Write(SshWriter w)
    {
        w.WriteByte(Number);
        w.WriteUInt32(RecipientChannel);
        w.WriteUInt32(SenderChannel);
        w.WriteUInt32(InitialWindowSize);
        w.WriteUInt32(MaximumPacketSize);
    }
}
