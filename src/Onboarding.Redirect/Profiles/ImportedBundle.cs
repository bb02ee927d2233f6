namespace Onboarding.Redirect.Profiles;

/// <summary>The hand-off bundle, version 1 (docs/handoff-bundle.md). Unknown members are ignored.</summary>
internal sealed record ImportedBundle(
    int? Version,
    DateTimeOffset? IssuedAt,
    ImportedBundleNms? Nms,
    ImportedBundleSftp? Sftp,
    ImportedBundleBootstrapServer? BootstrapServer,
    ImportedBundleCallHome? CallHome,
    string? OwnerCertificate,
    string? SignedRedirectInformation);

internal sealed record ImportedBundleNms(string? CustomerId, string? CustomerName, string? ManufacturerId);

internal sealed record ImportedBundleSftp(string? Host, int? Port, string? Username, ImportedBundleCredential? Credential, List<ImportedBundleHostKey>? HostKeys);

internal sealed record ImportedBundleCredential(string? Mode, string? Passphrase, string? RegisterPublicKey);

internal sealed record ImportedBundleHostKey(string? Algorithm, string? PublicKey, string? Fingerprint);

internal sealed record ImportedBundleBootstrapServer(string? Url, string? TrustAnchor);

internal sealed record ImportedBundleCallHome(string? Host, int? Port);

/// <summary>Checks a bundle on import; errors are keyed by the JSON path of the member, as the spec names them.</summary>
internal static class HandoffBundleValidation
{
    public const int SupportedVersion = 1;

    public static Dictionary<string, string[]> Validate(ImportedBundle bundle)
    {
        var errors = new Dictionary<string, List<string>>();
        void Add(string field, string message)
        {
            if (!errors.TryGetValue(field, out var list))
                errors[field] = list = [];
            list.Add(message);
        }

        if (bundle.Version is null)
            Add("version", "Required.");
        else if (bundle.Version != SupportedVersion)
            Add("version", $"Version {bundle.Version} is not supported; this redirect server reads version {SupportedVersion}.");

        if (string.IsNullOrWhiteSpace(bundle.Nms?.CustomerId))
            Add("nms.customerId", "Required.");
        else if (!Guid.TryParse(bundle.Nms.CustomerId, out _))
            Add("nms.customerId", "Must be a UUID.");
        if (bundle.Nms?.ManufacturerId is { } manufacturerId && !Guid.TryParse(manufacturerId, out _))
            Add("nms.manufacturerId", "Must be a UUID.");
        Text(bundle.Nms?.CustomerName, "nms.customerName", 200, required: false, Add);

        var sftp = bundle.Sftp;
        HostName(sftp?.Host, "sftp.host", required: true, Add);
        if (sftp?.Port is null)
            Add("sftp.port", "Required.");
        else if (sftp.Port is < 1 or > 65535)
            Add("sftp.port", "Must be 1 to 65535.");
        Text(sftp?.Username, "sftp.username", 64, required: true, Add);

        var mode = ParseMode(sftp?.Credential?.Mode);
        if (sftp?.Credential?.Mode is null)
            Add("sftp.credential.mode", "Required: \"passphrase\" or \"public-key\".");
        else if (mode is null)
            Add("sftp.credential.mode", "Must be \"passphrase\" or \"public-key\".");
        else if (mode == CredentialMode.Passphrase && string.IsNullOrEmpty(sftp.Credential!.Passphrase))
            Add("sftp.credential.passphrase", "Required when the mode is \"passphrase\" (the NMS includes it only in the response that created or rotated it).");
        else if (sftp.Credential!.Passphrase is { Length: > 1024 })
            Add("sftp.credential.passphrase", "At most 1024 characters.");

        var hostKeys = sftp?.HostKeys ?? [];
        if (!hostKeys.Any(k => !string.IsNullOrWhiteSpace(k?.Fingerprint)))
            Add("sftp.hostKeys", "At least one host key with a fingerprint is required: the NMS host key is pinned.");
        for (var i = 0; i < hostKeys.Count; i++)
        {
            var fingerprint = hostKeys[i]?.Fingerprint;
            if (fingerprint is not null && !IsSha256Fingerprint(fingerprint))
                Add($"sftp.hostKeys[{i}].fingerprint", "Must be an OpenSSH SHA-256 fingerprint (SHA256: and 43 base64 characters).");
            Text(hostKeys[i]?.Algorithm, $"sftp.hostKeys[{i}].algorithm", 64, required: false, Add);
            Text(hostKeys[i]?.PublicKey, $"sftp.hostKeys[{i}].publicKey", 16384, required: false, Add);
        }

        if (hostKeys.Where(k => k?.Fingerprint is not null).GroupBy(k => k!.Fingerprint).Any(g => g.Count() > 1))
            Add("sftp.hostKeys", "Each fingerprint may appear once.");

        var url = bundle.BootstrapServer?.Url;
        if (string.IsNullOrWhiteSpace(url))
            Add("bootstrapServer.url", "Required.");
        else if (url.Length > 2048 || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps || !string.IsNullOrEmpty(uri.UserInfo))
            Add("bootstrapServer.url", "Must be an absolute https URL without credentials, at most 2048 characters (RFC 8572 needs TLS).");
        Base64(bundle.BootstrapServer?.TrustAnchor, "bootstrapServer.trustAnchor", Add);

        if (bundle.CallHome is { } callHome)
        {
            HostName(callHome.Host, "callHome.host", required: false, Add);
            if (callHome.Port is < 1 or > 65535)
                Add("callHome.port", "Must be 1 to 65535.");
        }

        Base64(bundle.OwnerCertificate, "ownerCertificate", Add);
        Base64(bundle.SignedRedirectInformation, "signedRedirectInformation", Add);
        return errors.ToDictionary(e => e.Key, e => e.Value.ToArray());
    }

    public static CredentialMode? ParseMode(string? mode) => mode switch
    {
        "passphrase" => CredentialMode.Passphrase,
        "public-key" => CredentialMode.PublicKey,
        _ => null,
    };

    public static string ModeName(CredentialMode mode) => mode == CredentialMode.Passphrase ? "passphrase" : "public-key";

    private static bool IsSha256Fingerprint(string value) =>
        value.Length == "SHA256:".Length + 43 && value.StartsWith("SHA256:", StringComparison.Ordinal)
        && value["SHA256:".Length..].All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '/');

    private static void Text(string? value, string field, int max, bool required, Action<string, string> add)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            if (required)
                add(field, "Required.");
        }
        else if (value.Length > max)
        {
            add(field, $"At most {max} characters.");
        }
        else if (value.Any(char.IsControl))
        {
            add(field, "Must not contain control characters.");
        }
    }

    private static void HostName(string? value, string field, bool required, Action<string, string> add)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            if (required)
                add(field, "Required.");
            return;
        }

        if (value.Length > 253 || Uri.CheckHostName(value) == UriHostNameType.Unknown)
            add(field, "Must be a DNS name or an IP address.");
    }

    private static void Base64(string? value, string field, Action<string, string> add)
    {
        if (value is null)
            return;
        var buffer = new byte[value.Length];
        if (value.Length > 1024 * 1024 || !Convert.TryFromBase64String(value, buffer, out _))
            add(field, "Must be standard base64 (padded), at most 1 MiB.");
    }
}
