using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.Auth;

/// <summary>RFC 4252 §7 SSH_MSG_USERAUTH_PK_OK: the key would be accepted.</summary>
internal readonly record struct UserAuthPkOkMessage(string Algorithm, byte[] KeyBlob)
{
    public const byte Number = 60;

    public void Write(SshWriter w)
    {
        w.WriteByte(Number);
        w.WriteString(Algorithm);
        w.WriteString(KeyBlob);
    }
}
