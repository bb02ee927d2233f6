using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Onboarding.Sztp.Tests;

/// <summary>Throwaway certificates: a CA and end-entity certificates with their private keys, RSA or ECDSA P-256.</summary>
internal static class TestPki
{
    public static X509Certificate2 Ca(string name, bool ecdsa = false)
    {
        var request = Request($"CN={name}", ecdsa, out _);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(5));
    }

    public static X509Certificate2 Issue(X509Certificate2 issuer, string name, bool ecdsa = false)
    {
        var request = Request($"CN={name}", ecdsa, out var key);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        var serial = RandomNumberGenerator.GetBytes(8);
        serial[0] &= 0x7f;
        using var certificate = request.Create(issuer, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddYears(1), serial);
        return key is RSA rsa ? certificate.CopyWithPrivateKey(rsa) : certificate.CopyWithPrivateKey((ECDsa)key);
    }

    private static CertificateRequest Request(string subject, bool ecdsa, out AsymmetricAlgorithm key)
    {
        if (ecdsa)
        {
            var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            key = ec;
            return new CertificateRequest(subject, ec, HashAlgorithmName.SHA256);
        }
        var rsa = RSA.Create(2048);
        key = rsa;
        return new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
    }
}
