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

    /// <summary>The name devices use to reach this redirect server (its TLS certificate's SAN).</summary>
    public string PublicHost { get; set; } = "localhost";

    /// <summary>Where the redirect server's root CA and TLS certificate live; unset: <c>redirect-identity</c> in the key store.</summary>
    public string? IdentityDirectory { get; set; }

    public RedirectBootstrapOptions Bootstrap { get; set; } = new();

    public RedirectHandoffOptions Handoff { get; set; } = new();
}

/// <summary><c>Redirect:Bootstrap</c>: the device-facing RFC 8572 port.</summary>
internal sealed class RedirectBootstrapOptions
{
    public bool Enabled { get; set; } = true;

    public int Port { get; set; } = 8444;

    public string ListenAddress { get; set; } = "0.0.0.0";

    /// <summary>An operator's PEM (certificate, its chain, and the private key) instead of the generated identity.</summary>
    public string? CertificateFile { get; set; }
}

/// <summary><c>Redirect:Handoff</c>: how device records travel to an NMS over SFTP.</summary>
internal sealed class RedirectHandoffOptions
{
    /// <summary>Records for one NMS arriving within this window go in one file.</summary>
    public TimeSpan BatchWindow { get; set; } = TimeSpan.FromMilliseconds(100);

    public int MaxBatchRecords { get; set; } = 1000;

    /// <summary>How long a device's request waits for its record to be bookkept before it is answered 503.</summary>
    public TimeSpan AnswerWithin { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The Retry-After a device is given when the NMS could not be reached in time.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>An SFTP session idle this long is closed.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>TCP connect, SSH handshake and login.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// One SFTP request, above all the CLOSE of a batch file, which the NMS answers only after bookkeeping every record
    /// in it: a large batch on a busy NMS takes longer than a login, and timing it out would send the whole batch back
    /// as "NMS unreachable" although it is being bookkept.
    /// </summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(60);
}
