using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Onboarding.IntegrationTests.Infrastructure;

/// <summary>A manufacturer's factory CA that issues IEEE 802.1AR-style IDevID certificates with the serial in subject serialNumber.</summary>
public sealed class FactoryCa : IDisposable
{
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public FactoryCa(string name = "Acme Factory CA")
    {
        var request = new CertificateRequest($"CN={name}, O=Acme", _key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        Certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(20));
    }

    public X509Certificate2 Certificate { get; }

    public string Pem => Certificate.ExportCertificatePem();

    /// <summary>
    /// An IDevID for <paramref name="serial"/>; <paramref name="subjectSerial"/> lets a test put a different one in the
    /// certificate, and <paramref name="key"/> re-issue a certificate for a key that already has one.
    /// </summary>
    public X509Certificate2 IssueDevice(string serial, string? subjectSerial = null, DateTimeOffset? notAfter = null, ECDsa? key = null)
    {
        using var ownKey = key is null ? ECDsa.Create(ECCurve.NamedCurves.nistP256) : null;
        var deviceKey = key ?? ownKey!;
        var request = new CertificateRequest($"CN=device {serial}, SERIALNUMBER={subjectSerial ?? serial}, O=Acme", deviceKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        var serialNumber = RandomNumberGenerator.GetBytes(12);
        serialNumber[0] &= 0x7F;
        using var certificate = request.Create(Certificate, DateTimeOffset.UtcNow.AddMinutes(-5), notAfter ?? DateTimeOffset.UtcNow.AddYears(10), serialNumber);
        return certificate.CopyWithPrivateKey(deviceKey);
    }

    /// <summary>An IDevID with an RSA key, for devices whose crypto chips sign only RSA PKCS#1 v1.5.</summary>
    public X509Certificate2 IssueRsaDevice(string serial)
    {
        using var deviceKey = RSA.Create(2048);
        var request = new CertificateRequest($"CN=device {serial}, SERIALNUMBER={serial}, O=Acme", deviceKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        var serialNumber = RandomNumberGenerator.GetBytes(12);
        serialNumber[0] &= 0x7F;
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, true, false));
        // An RSA leaf under the ECDSA CA: the CA's key signs, whatever the leaf's key type.
        using var certificate = request.Create(Certificate.SubjectName, X509SignatureGenerator.CreateForECDsa(_key),
            DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(10), serialNumber);
        return certificate.CopyWithPrivateKey(deviceKey);
    }

    public void Dispose()
    {
        Certificate.Dispose();
        _key.Dispose();
    }
}

/// <summary>Builds onboarding-device XML documents.</summary>
public static class DeviceRecordXml
{
    public const string Namespace = "urn:onboarding:params:xml:ns:yang:onboarding-device";

    public static string Device(string serial, string owner, X509Certificate2 certificate, string model = "MX204", bool pem = true, string? extra = null) =>
        $"""
          <device>
            <serial-number>{serial}</serial-number>
            <owner>{System.Security.SecurityElement.Escape(owner)}</owner>
            <manufacturer>Acme</manufacturer>
            <model>{model}</model>
            <certificate>{(pem ? certificate.ExportCertificatePem() : Convert.ToBase64String(certificate.RawData))}</certificate>
            <mac-address>00:11:22:33:44:55</mac-address>
            <os-version>23.4R1</os-version>
            <order-id>PO-1001</order-id>{extra}
          </device>
        """;

    public static string Devices(params string[] devices) =>
        $"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<devices xmlns=\"{Namespace}\">\n{string.Concat(devices)}</devices>\n";
}
