namespace Onboarding.Accounts;

public sealed class AccountsOptions
{
    /// <summary>Sign-ups per client address per window.</summary>
    public RateLimit SignUp { get; set; } = new() { PermitLimit = 10, Window = TimeSpan.FromMinutes(1) };

    /// <summary>Failed API-key authentications per client address per window before it is answered 429.</summary>
    public RateLimit FailedAuthentication { get; set; } = new() { PermitLimit = 20, Window = TimeSpan.FromMinutes(1) };
}

public sealed class RateLimit
{
    public int PermitLimit { get; set; }

    public TimeSpan Window { get; set; }
}

/// <summary>How manufacturers and devices reach this NMS; handed to customers with each SFTP account.</summary>
public sealed class NmsEndpointOptions
{
    /// <summary>The DNS name or address manufacturers and devices use to reach the NMS.</summary>
    public string PublicHost { get; set; } = "localhost";

    public int SftpPort { get; set; } = 2222;

    /// <summary>Defaults to <see cref="PublicHost"/>.</summary>
    public string? CallHomeHost { get; set; }

    /// <summary>RFC 8071 §3.1: IANA port 4334 is netconf-ch-ssh.</summary>
    public int CallHomePort { get; set; } = 4334;
}
