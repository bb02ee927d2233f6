namespace Onboarding.Ssh.Auth;

/// <summary>RFC 4252 §5.4 SSH_MSG_USERAUTH_BANNER (ignored by our client).</summary>
internal static class UserAuthBannerMessage
{
    public const byte Number = 53;
}
