using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.Connection;

/// <summary>RFC 4254 §5.2 SSH_MSG_CHANNEL_WINDOW_ADJUST.</summary>
internal readonly record struct ChannelWindowAdjustMessage(uint RecipientChannel, uint BytesToAdd)
{
    public const byte Number = 93;

    public static ChannelWindowAdjustMessage Read(ref SshReader r)
    {
        r.ReadByte();
        var m = new ChannelWindowAdjustMessage(r.ReadUInt32(), r.ReadUInt32());
        r.EnsureEnd();
        return m;
    }

    public void Write(SshWriter w)
    {
        w.WriteByte(Number);
        w.WriteUInt32(RecipientChannel);
        w.WriteUInt32(BytesToAdd);
    }
}
