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

    /// <summary>
    /// The HTTPS port of the NMS bootstrap server (RFC 8572 get-bootstrapping-data), named in the signed
    /// redirect-information the manufacturer hands to devices. Not 443, so it does not clash with the REST API.
    /// </summary>
    public int BootstrapPort { get; set; } = 8443;

    /// <summary>The bootstrap server's URL: <c>https://</c><see cref="PublicHost"/><c>:</c><see cref="BootstrapPort"/>.</summary>
    public Uri BootstrapUrl => new UriBuilder(Uri.UriSchemeHttps, PublicHost, BootstrapPort).Uri;
}

/// <summary>Where the NMS's RFC 8572 identities (owner certificate, bootstrap TLS certificate, their CA) are kept.</summary>
public sealed class NmsIdentityOptions
{
    /// <summary>The key store's subdirectory that holds the identities unless <see cref="Directory"/> is set.</summary>
    public const string KeyStoreSubdirectory = "nms-identity";

    /// <summary>Relative to the content root unless absolute; unset: <c>nms-identity</c> in the key store.</summary>
    public string? Directory { get; set; }
}
