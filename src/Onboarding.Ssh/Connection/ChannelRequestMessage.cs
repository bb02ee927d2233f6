using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.Connection;

/// <summary>
/// RFC 4254 §5.4 SSH_MSG_CHANNEL_REQUEST. The fields of the types we implement are decoded:
/// "exec" (§6.5 command), "subsystem" (§6.5 name), "exit-status" (§6.10 uint32); others are kept opaque.
/// </summary>
internal sealed record ChannelRequestMessage(uint RecipientChannel, string RequestType, bool WantReply)
{
    public const byte Number = 98;

    public string? Command { get; init; }
    public string? SubsystemName { get; init; }
    public uint? ExitStatus { get; init; }

    public static ChannelRequestMessage Read(ref SshReader r)
    {
        r.ReadByte();
        var m = new ChannelRequestMessage(r.ReadUInt32(), r.ReadAscii(), r.ReadBoolean());
        switch (m.RequestType)
        {
            case "exec":
                m = m with { Command = r.ReadUtf8() };
                r.EnsureEnd();
                break;
            case "subsystem":
                m = m with { SubsystemName = r.ReadAscii() };
                r.EnsureEnd();
                break;
            case "exit-status":
                m = m with { ExitStatus = r.ReadUInt32() };
                r.EnsureEnd();
                break;
        }
        return m;
    }

    public void Write(SshWriter w)
    {
        w.WriteByte(Number);
        w.WriteUInt32(RecipientChannel);
        w.WriteString(RequestType);
        w.WriteBoolean(WantReply);
        if (Command is not null)
            w.WriteString(Command);
        if (SubsystemName is not null)
            w.WriteString(SubsystemName);
        if (ExitStatus is { } status)
            w.WriteUInt32(status);
    }
}
