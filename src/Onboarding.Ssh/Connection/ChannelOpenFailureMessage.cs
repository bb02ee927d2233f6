using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.Connection;

/// <summary>RFC 4254 §5.1 SSH_MSG_CHANNEL_OPEN_FAILURE.</summary>
internal readonly record struct ChannelOpenFailureMessage(uint RecipientChannel, uint ReasonCode, string Description)
{
    public const byte Number = 92;
    public const uint AdministrativelyProhibited = 1;
    public const uint UnknownChannelType = 3;
    public const uint ResourceShortage = 4;

    public static ChannelOpenFailureMessage Read(ref SshReader r)
    {
        r.ReadByte();
        var m = new ChannelOpenFailureMessage(r.ReadUInt32(), r.ReadUInt32(), r.ReadUtf8());
        r.ReadString();
        return m;
    }

    public void Write(SshWriter w)
    {
        w.WriteByte(Number);
        w.WriteUInt32(RecipientChannel);
        w.WriteUInt32(ReasonCode);
        w.WriteString(Description);
        w.WriteString("");
    }
}
