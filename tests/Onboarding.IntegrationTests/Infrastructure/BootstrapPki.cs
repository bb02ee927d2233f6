using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Onboarding.IntegrationTests.Infrastructure;

/// <summary>
/// Throwaway certificates for device-facing bootstrap tests: TLS server certificates (for localhost and 127.0.0.1)
/// under a server CA, and device IDevIDs under a factory CA, optionally through an intermediate; written as PEM files
/// for curl and openssl.
/// </summary>
public sealed class BootstrapPki : IDisposable
{
    public BootstrapPki()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("bootstrap-pki-").FullName;
        ServerCa = Ca("CN=Bootstrap test server CA");
        FactoryCa = Ca("CN=Bootstrap test factory CA");
    }

    public string Directory { get; }

    public X509Certificate2 ServerCa { get; }

    public X509Certificate2 FactoryCa { get; }

    public static X509Certificate2 Ca(string subject, X509Certificate2? issuer = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        if (issuer is null)
            return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(5));
        using var certificate = SignWith(request, issuer, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddYears(4), Serial());
        return certificate.CopyWithPrivateKey(key);
    }

    /// <summary>A TLS server certificate for localhost / 127.0.0.1 (RSA, because TLS 1.2 RSA+SHA256 clients need one).</summary>
    public X509Certificate2 Server(string name = "localhost", int rsaBits = 2048, X509Certificate2? ca = null)
    {
        using var key = RSA.Create(rsaBits);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(name);
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = SignWith(request, ca ?? ServerCa, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddYears(1), Serial());
        return certificate.CopyWithPrivateKey(key);
    }

    /// <summary>A device certificate with subject serialNumber; RSA-2048 or P-256.</summary>
    public static X509Certificate2 Device(X509Certificate2 issuer, string serial, bool rsa = false)
    {
        using AsymmetricAlgorithm key = rsa ? RSA.Create(2048) : ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var subject = $"CN={serial}, SERIALNUMBER={serial}, O=Acme";
        var request = key is RSA r ? new CertificateRequest(subject, r, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : new CertificateRequest(subject, (ECDsa)key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        using var certificate = SignWith(request, issuer, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddYears(1), Serial());
        return key is RSA rsaKey ? certificate.CopyWithPrivateKey(rsaKey) : certificate.CopyWithPrivateKey((ECDsa)key);
    }

    /// <summary>Writes <c>name.pem</c> (the certificate, then <paramref name="chain"/>) and <c>name.key</c>; returns both paths.</summary>
    public (string Certificate, string Key) WritePem(string name, X509Certificate2 certificate, params X509Certificate2[] chain)
    {
        var certificatePath = Path.Combine(Directory, name + ".pem");
        var keyPath = Path.Combine(Directory, name + ".key");
        File.WriteAllText(certificatePath, string.Concat(new[] { certificate }.Concat(chain).Select(c => c.ExportCertificatePem() + "\n")));
        if (certificate.HasPrivateKey)
        {
            using AsymmetricAlgorithm key = (AsymmetricAlgorithm?)certificate.GetRSAPrivateKey() ?? certificate.GetECDsaPrivateKey()!;
            File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem() + "\n");
        }
        return (certificatePath, keyPath);
    }

    /// <summary>Issues with the issuer's key whatever the subject key's algorithm (CertificateRequest.Create(issuer) insists they match).</summary>
    internal static X509Certificate2 SignWith(CertificateRequest request, X509Certificate2 issuer, DateTimeOffset notBefore, DateTimeOffset notAfter, byte[] serial)
    {
        using var ecdsa = issuer.GetECDsaPrivateKey();
        using var rsa = ecdsa is null ? issuer.GetRSAPrivateKey() : null;
        var generator = ecdsa is not null ? X509SignatureGenerator.CreateForECDsa(ecdsa)
            : X509SignatureGenerator.CreateForRSA(rsa ?? throw new ArgumentException("the issuer has no private key"), RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        return request.Create(issuer.SubjectName, generator, notBefore, notAfter, serial);
    }

    private static byte[] Serial()
    {
        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7F;
        return serial;
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
