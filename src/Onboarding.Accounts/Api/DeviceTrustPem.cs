using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Onboarding.ServiceDefaults.Http;

namespace Onboarding.Accounts.Api;

/// <summary>Validates and describes the PEM bundle of a manufacturer's factory CA.</summary>
internal static class DeviceTrustPem
{
    private const int MaxLength = 64 * 1024;

    /// <summary>Returns the normalised PEM (certificates only) or null, adding field errors to <paramref name="validation"/>.</summary>
    public static string? Validate(string? pem, FieldErrors validation, string field)
    {
        if (string.IsNullOrWhiteSpace(pem))
        {
            validation.Add(field, "Required: one or more PEM certificates.");
            return null;
        }

        if (pem.Length > MaxLength)
        {
            validation.Add(field, $"At most {MaxLength} characters.");
            return null;
        }

        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPem(pem);
        }
        catch (CryptographicException ex)
        {
            validation.Add(field, $"Not a PEM certificate bundle: {ex.Message}");
            return null;
        }

        if (certificates.Count == 0)
        {
            validation.Add(field, "No CERTIFICATE block found.");
            return null;
        }

        foreach (var certificate in certificates)
        {
            var constraints = certificate.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault();
            if (constraints is not { CertificateAuthority: true })
                validation.Add(field, $"'{certificate.Subject}' is not a CA certificate (basicConstraints cA must be true).");
        }

        return string.Join('\n', certificates.Select(c => c.ExportCertificatePem())) + "\n";
    }

    public static IReadOnlyList<CaCertificateView> Describe(string? pem)
    {
        if (pem is null)
            return [];
        var certificates = new X509Certificate2Collection();
        certificates.ImportFromPem(pem);
        return [.. certificates.Select(c => new CaCertificateView(c.Subject, c.GetCertHashString(HashAlgorithmName.SHA256), c.NotAfter.ToUniversalTime()))];
    }
}
