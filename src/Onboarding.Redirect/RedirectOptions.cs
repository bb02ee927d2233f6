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

    /// <summary>
    /// How long an ownership voucher without a nonce stays valid (RFC 8366 expires-on); capped by the owner
    /// certificate's and the signing certificate's expiry. A voucher for a device that sent a nonce carries no expiry.
    /// </summary>
    public TimeSpan VoucherLifetime { get; set; } = TimeSpan.FromDays(14);

    /// <summary>Where the manufacturers' voucher signing keys live; unset: <c>redirect-vouchers</c> in the key store.</summary>
    public string? VoucherKeyDirectory { get; set; }
}
