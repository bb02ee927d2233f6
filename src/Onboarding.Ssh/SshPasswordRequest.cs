namespace Onboarding.Ssh;

/// <summary>A password login attempt. <see cref="ToString"/> never shows the password.</summary>
public sealed class SshPasswordRequest(string userName, string password, string? clientVersion)
{
    public string UserName { get; } = userName;
    public string Password { get; } = password;
    public string? ClientVersion { get; } = clientVersion;

    public override string ToString() => $"password login for {UserName}";
}
