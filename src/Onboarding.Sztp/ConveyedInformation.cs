namespace Onboarding.Sztp;

/// <summary>
/// The conveyed-information of RFC 8572 §2.2, YANG module ietf-sztp-conveyed-info (§6.3): a choice between
/// <see cref="RedirectInformation"/> and <see cref="OnboardingInformation"/>.
/// </summary>
public abstract record ConveyedInformation;

/// <summary>RFC 8572 §2.2.1: where the device goes next. Names no device, so one document serves every device.</summary>
public sealed record RedirectInformation(IReadOnlyList<BootstrapServer> BootstrapServers) : ConveyedInformation;

/// <summary>
/// One entry of the bootstrap-server list (keyed by address). <paramref name="Port"/> null means the YANG default 443.
/// <paramref name="TrustAnchor"/> is a certificates-only CMS (RFC 8572 §6.3 typedef cms) the device uses to
/// authenticate that server's TLS certificate.
/// </summary>
public sealed record BootstrapServer(string Address, ushort? Port = null, byte[]? TrustAnchor = null);

/// <summary>RFC 8572 §2.2.2: what the device installs and runs.</summary>
public sealed record OnboardingInformation(
    BootImage? BootImage = null,
    ConfigurationHandling? ConfigurationHandling = null,
    byte[]? PreConfigurationScript = null,
    byte[]? Configuration = null,
    byte[]? PostConfigurationScript = null) : ConveyedInformation;

/// <summary>leaf configuration-handling: how the configuration is applied.</summary>
public enum ConfigurationHandling
{
    Merge,
    Replace,
}

/// <summary>container boot-image. <paramref name="DownloadUris"/> is ordered-by user.</summary>
public sealed record BootImage(
    string? OsName,
    string? OsVersion,
    IReadOnlyList<string> DownloadUris,
    IReadOnlyList<ImageVerification> ImageVerifications);

/// <summary>
/// list image-verification. <paramref name="HashAlgorithm"/> is the identity without module prefix (the module
/// defines <c>sha-256</c>); <paramref name="HashValue"/> is a yang:hex-string such as <c>ab:cd:…</c>.
/// </summary>
public sealed record ImageVerification(string HashAlgorithm, string HashValue);
