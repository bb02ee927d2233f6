using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.Connection;

/// <summary>RFC 4254 §4 SSH_MSG_GLOBAL_REQUEST; we answer every one with REQUEST_FAILURE when a reply is wanted.</summary>
internal readonly record struct GlobalRequestMessage(string RequestName, bool WantReply)
{
    public const byte Number = 80;
    public const byte SuccessNumber = 81;
    public const byte FailureNumber = 82;

    public static GlobalRequestMessage Read(ref SshReader r)
    {
        r.ReadByte();
        return new GlobalRequestMessage(r.ReadAscii(), r.ReadBoolean());
    }

    public void Write(SshWriter w)
    {
        w.WriteByte(Number);
        w.WriteString(RequestName);
        w.WriteBoolean(WantReply);
    }
}
