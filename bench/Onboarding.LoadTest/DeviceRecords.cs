using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Onboarding.LoadTest;

/// <summary>A throwaway factory CA and onboarding-device XML documents, as a manufacturer would upload them.</summary>
internal sealed class FactoryAuthority : IDisposable
{
    public const string Namespace = "urn:onboarding:params:xml:ns:yang:onboarding-device";

    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public FactoryAuthority()
    {
        var request = new CertificateRequest("CN=LoadTest Factory CA, O=Acme", _key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        Certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(5));
    }

    public X509Certificate2 Certificate { get; }

    public string Pem => Certificate.ExportCertificatePem();

    /// <summary>An IDevID-style certificate with the serial in subject serialNumber (2.5.4.5), PEM-encoded.</summary>
    public string IssueDevicePem(string serial)
    {
        using var deviceKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=device {serial}, SERIALNUMBER={serial}, O=Acme", deviceKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        var serialNumber = RandomNumberGenerator.GetBytes(12);
        serialNumber[0] &= 0x7F;
        using var certificate = request.Create(Certificate, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(4), serialNumber);
        return certificate.ExportCertificatePem();
    }

    /// <summary>The same IDevID with its private key, for a device that presents it in a TLS handshake (RFC 8572 §5.3).</summary>
    public X509Certificate2 IssueDevice(string serial)
    {
        using var deviceKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=device {serial}, SERIALNUMBER={serial}, O=Acme", deviceKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        var serialNumber = RandomNumberGenerator.GetBytes(12);
        serialNumber[0] &= 0x7F;
        using var certificate = request.Create(Certificate, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(4), serialNumber);
        return certificate.CopyWithPrivateKey(deviceKey);
    }

    public static string Device(string serial, string owner, string certificatePem) =>
        $"""
          <device>
            <serial-number>{serial}</serial-number>
            <owner>{System.Security.SecurityElement.Escape(owner)}</owner>
            <manufacturer>Acme</manufacturer>
            <model>MX204</model>
            <certificate>{certificatePem}</certificate>
            <mac-address>00:11:22:33:44:55</mac-address>
            <os-version>23.4R1</os-version>
            <order-id>PO-LOAD</order-id>
          </device>
        """;

    public static byte[] Document(IEnumerable<string> devices)
    {
        var text = new StringBuilder().Append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<devices xmlns=\"").Append(Namespace).Append("\">\n");
        foreach (var d in devices)
            text.Append(d);
        return Encoding.UTF8.GetBytes(text.Append("</devices>\n").ToString());
    }

    public void Dispose()
    {
        Certificate.Dispose();
        _key.Dispose();
    }
}
