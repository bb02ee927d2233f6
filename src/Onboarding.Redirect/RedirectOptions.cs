namespace Onboarding.Redirect;

/// <summary>The <c>Redirect</c> configuration section.</summary>
internal sealed class RedirectOptions
{
    public const string SectionName = "Redirect";

    /// <summary>Manufacturer sign-ups per client address per window.</summary>
    public int SignUpPermitLimit { get; set; } = 10;

    public TimeSpan SignUpWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Invalid manufacturer keys per client address per window before it is answered 429.</summary>
    public int FailedAuthenticationPermitLimit { get; set; } = 20;

    public TimeSpan FailedAuthenticationWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Where the Data Protection keys that encrypt NMS profile secrets live; unset: <c>redirect-data-protection</c> in the key store.</summary>
    public string? DataProtectionDirectory { get; set; }

    /// <summary>Orders one bulk call may carry.</summary>
    public int MaxBulkOrders { get; set; } = 10_000;
}
