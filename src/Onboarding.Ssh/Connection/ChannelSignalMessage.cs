using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.Connection;

/// <summary>
/// The RFC 4254 channel messages whose only field is the recipient channel:
/// SSH_MSG_CHANNEL_EOF (§5.3), SSH_MSG_CHANNEL_CLOSE (§5.3), SSH_MSG_CHANNEL_SUCCESS / FAILURE (§5.4).
/// </summary>
internal readonly record struct ChannelSignalMessage(byte Number, uint RecipientChannel)
{
    public const byte Eof = 96;
    public const byte Close = 97;
    public const byte Success = 99;
    public const byte Failure = 100;

    public static ChannelSignalMessage Read(ref SshReader r)
    {
        var m = new ChannelSignalMessage(r.ReadByte(), r.ReadUInt32());
        r.EnsureEnd();
        return m;
    }

    public void Write(SshWriter w)
    {
        w.WriteByte(Number);
        w.WriteUInt32(RecipientChannel);
    }
}
