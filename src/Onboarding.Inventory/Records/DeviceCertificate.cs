using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Onboarding.Accounts.Contracts;
using Onboarding.ServiceDefaults.Security;

namespace Onboarding.Inventory.Records;

/// <summary>Reads a device's IDevID certificate from a record and checks it against the manufacturer's trust settings.</summary>
internal static class DeviceCertificate
{
    private const string SerialNumberOid = "2.5.4.5";
    private const string CommonNameOid = "2.5.4.3";

    /// <summary>PEM, or base64 of DER. Returns null with a reason when it is neither.</summary>
    public static X509Certificate2? Parse(string text, out string? error)
    {
        error = null;
        try
        {
            if (text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
                return X509Certificate2.CreateFromPem(text);
            var der = Convert.FromBase64String(string.Concat(text.Where(c => !char.IsWhiteSpace(c))));
            return X509CertificateLoader.LoadCertificate(der);
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException or ArgumentException)
        {
            error = $"the certificate is neither PEM nor base64 DER X.509 ({ex.Message})";
            return null;
        }
    }

    /// <summary>
    /// Lower-case hex SHA-256 of the certificate's DER SubjectPublicKeyInfo: the device's key, whichever way it presents
    /// it (an SSH host key at call home, an RFC 6187 x509v3 host key, a TLS client certificate).
    /// </summary>
    public static string PublicKeySha256(X509Certificate2 certificate) =>
        Convert.ToHexStringLower(SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo()));

    /// <summary>The serial the manufacturer put in the certificate's subject, or null if absent.</summary>
    public static string? ExtractSerial(X509Certificate2 certificate, SerialExtraction extraction)
    {
        var oid = extraction == SerialExtraction.SubjectCommonName ? CommonNameOid : SerialNumberOid;
        try
        {
            foreach (var rdn in certificate.SubjectName.EnumerateRelativeDistinguishedNames())
            {
                if (rdn.GetSingleElementType().Value == oid)
                    return rdn.GetSingleElementValue();
            }
        }
        catch (Exception ex) when (ex is CryptographicException or AsnContentException or InvalidOperationException)
        {
            return null;
        }

        return null;
    }

    /// <summary>Checks that the certificate chains to one of the manufacturer's CA certificates; returns a reason if not.</summary>
    public static string? VerifyChain(X509Certificate2 certificate, X509Certificate2Collection caCertificates, DateTimeOffset now) =>
        CertificateChains.Verify(certificate, [], caCertificates, now) is { } reasons
            ? $"the certificate does not chain to the manufacturer's CA ({reasons})"
            : null;
}
