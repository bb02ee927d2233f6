namespace Onboarding.Ssh.Auth;

/// <summary>RFC 4252 §5.1 SSH_MSG_USERAUTH_SUCCESS (no fields).</summary>
internal static class UserAuthSuccessMessage
{
    public const byte Number = 52;
}
