using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.Transport;

/// <summary>RFC 4253 §11.1 SSH_MSG_DISCONNECT.</summary>
internal readonly record struct DisconnectMessage(SshDisconnectReason Reason, string Description)
{
    public const byte Number = 1;

    public static DisconnectMessage Read(ref SshReader r)
    {
        r.ReadByte();
        var reason = (SshDisconnectReason)r.ReadUInt32();
        var description = r.ReadUtf8();
        r.ReadString(); // language tag
        return new DisconnectMessage(reason, description);
    }

    public void Write(SshWriter w)
    {
        w.WriteByte(Number);
        w.WriteUInt32((uint)Reason);
        w.WriteString(Description);
        w.WriteString("");
    }
}
