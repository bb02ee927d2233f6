using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using Onboarding.ServiceDefaults.Keys;

namespace Onboarding.Notifications.Channels;

/// <summary>
/// Webhook signing secrets. HMAC needs the secret itself to sign every delivery, so it cannot be hashed: it is encrypted
/// with ASP.NET Core Data Protection, in a key ring of this module's own in the key store (not the host-wide one, which
/// the redirect server configures for itself), so a database dump alone reveals no secret. Hosts sharing a database
/// must share that directory.
/// </summary>
internal sealed class WebhookSecrets
{
    public const string Prefix = "whsec_";
    internal const string DataProtectionSubdirectory = "notifications-data-protection";

    private readonly IDataProtector _protector;

    public WebhookSecrets(KeyStore keyStore, IOptions<NotificationsOptions> options)
    {
        var directory = keyStore.PrivateDirectory(options.Value.DataProtectionDirectory, DataProtectionSubdirectory);
        _protector = DataProtectionProvider.Create(new DirectoryInfo(directory), builder => builder.SetApplicationName("onboarding-notifications"))
            .CreateProtector("Onboarding.Notifications.WebhookSecret.v1");
    }

    /// <summary>A new secret: 256 random bits as hex behind a recognisable prefix (secret scanners know <c>whsec_</c>).</summary>
    public static string Generate() => Prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    public string Protect(string secret) => _protector.Protect(secret);

    public string Unprotect(string protectedSecret) => _protector.Unprotect(protectedSecret);
}
