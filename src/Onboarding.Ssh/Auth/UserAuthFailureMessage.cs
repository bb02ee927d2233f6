using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.Auth;

/// <summary>RFC 4252 §5.1 SSH_MSG_USERAUTH_FAILURE.</summary>
internal readonly record struct UserAuthFailureMessage(string[] Methods, bool PartialSuccess)
{
    public const byte Number = 51;

    public static UserAuthFailureMessage Read(ref SshReader r)
    {
        r.ReadByte();
        var methods = r.ReadNameList();
        var partial = r.ReadBoolean();
        r.EnsureEnd();
        return new UserAuthFailureMessage(methods, partial);
    }

    public void Write(SshWriter w)
    {
        w.WriteByte(Number);
        w.WriteNameList(Methods);
        w.WriteBoolean(PartialSuccess);
    }
}
