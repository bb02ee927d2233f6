using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Onboarding.ServiceDefaults.Keys;

/// <summary>
/// Certificate identities kept in the key store (the NMS's and the redirect server's RFC 8572 identities): one PEM file
/// per certificate with its PKCS#8 key (0600), generated on first start. All keys are RSA 3072 and every signature is
/// RSA PKCS#1 v1.5 with SHA-256, because strict devices' crypto chips verify PKCS#1 v1.5 but not PSS, and some do not
/// do ECDSA at all (DESIGN.md, "Conveyed information").
/// </summary>
public static class KeyStoreCertificates
{
    public const int RsaBits = 3072;

    /// <summary>A TLS certificate this close to expiry is replaced at start-up; its root (the trust anchor) stays.</summary>
    public static readonly TimeSpan TlsRenewBefore = TimeSpan.FromDays(30);

    /// <summary>The certificate at <paramref name="path"/>, or a new one from <paramref name="create"/> written there.</summary>
    public static X509Certificate2 LoadOrCreate(string path, Func<X509Certificate2> create, ILogger logger)
    {
        if (File.Exists(path))
            return Load(path);

        var created = create();
        // Written whole to a private temporary file, then linked into place without overwriting: of hosts sharing the
        // store that start together, exactly one wins, and nobody ever reads half a file.
        var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        KeyStore.WritePrivateFile(temporary, Pem(created));
        try
        {
            File.Move(temporary, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temporary);
            created.Dispose();
            return Load(path);
        }

        logger.LogInformation("Generated {Subject} (SHA-256 {Thumbprint}) at {Path}", created.Subject,
            created.GetCertHashString(HashAlgorithmName.SHA256), path);
        return created;
    }

    /// <summary>Overwrites <paramref name="path"/> atomically with the certificate and its key.</summary>
    public static void Replace(string path, X509Certificate2 certificate)
    {
        var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        KeyStore.WritePrivateFile(temporary, Pem(certificate));
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>A PEM file with a certificate and its private key.</summary>
    public static X509Certificate2 Load(string path)
    {
        var pem = File.ReadAllText(path);
        using var certificate = X509Certificate2.CreateFromPem(pem, pem);
        // Re-imported from PKCS#12 so the private key is usable by SslStream and SignedCms on every platform.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }

    public static string Pem(X509Certificate2 certificate)
    {
        using var key = certificate.GetRSAPrivateKey() ?? throw new InvalidOperationException("certificate has no RSA private key");
        return certificate.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem() + "\n";
    }

    /// <summary>The TLS certificate names <paramref name="host"/> and is not about to expire.</summary>
    public static bool Fits(X509Certificate2 tls, string host, DateTimeOffset now) =>
        tls.NotAfter.ToUniversalTime() > (now + TlsRenewBefore).UtcDateTime && tls.MatchesHostname(host, allowWildcards: false);

    /// <summary>A self-signed root CA (pathLen 0: it issues leaves only), valid 20 years.</summary>
    public static X509Certificate2 CreateRoot(string subject, DateTimeOffset now)
    {
        using var key = RSA.Create(RsaBits);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(now.AddDays(-1), now.AddYears(20)); // carries the key already
    }

    /// <summary>A TLS server certificate for <paramref name="host"/> (SAN DNS name or IP address), valid 2 years.</summary>
    public static X509Certificate2 IssueTls(X509Certificate2 root, string host, DateTimeOffset now)
    {
        using var key = RSA.Create(RsaBits);
        var request = new CertificateRequest($"CN={host}, O=Onboarding", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        if (IPAddress.TryParse(host, out var address))
            san.AddIpAddress(address);
        else
            san.AddDnsName(host);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        // keyEncipherment too: TLS 1.2 RSA key exchange is what some device stacks still negotiate.
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(root, true, false));
        return Issue(request, root, key, now, now.AddYears(2));
    }

    /// <summary>Signs <paramref name="request"/> with <paramref name="root"/>; the result carries <paramref name="key"/>.</summary>
    public static X509Certificate2 Issue(CertificateRequest request, X509Certificate2 root, RSA key, DateTimeOffset now, DateTimeOffset notAfter)
    {
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // RFC 5280 §4.1.2.2: positive
        serial[0] |= 0x01; // and without a leading zero byte
        using var certificate = request.Create(root, now.AddMinutes(-5), notAfter, serial);
        return certificate.CopyWithPrivateKey(key);
    }
}
