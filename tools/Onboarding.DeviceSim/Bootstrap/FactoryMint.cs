using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Onboarding.DeviceSim.Bootstrap;

/// <summary>The key type of minted device certificates (IDevIDs): RSA-2048 or ECDSA P-256, what device crypto chips hold.</summary>
internal enum DeviceKeyType
{
    Rsa2048,
    P256,
}

/// <summary>
/// <c>mint</c>: a demo factory CA and N IEEE 802.1AR-style device certificates (serial in subject serialNumber and CN)
/// with their private keys, written as <c>factory-ca.pem</c> and <c>devices/&lt;serial&gt;.pem</c> (certificate then
/// PKCS#8 key). Demo material for a simulator, kept out of git: the files are created owner-readable only.
/// </summary>
internal static class FactoryMint
{
    public const string CaFile = "factory-ca.pem";
    public const string CaKeyFile = "factory-ca.key";
    public const string DevicesDirectory = "devices";

    public static IReadOnlyList<string> Mint(string directory, int count, DeviceKeyType keyType, string serialPrefix = "SIM")
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        Directory.CreateDirectory(Path.Combine(directory, DevicesDirectory));
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Onboarding demo factory CA, O=Onboarding DeviceSim", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(20));
        WritePrivate(Path.Combine(directory, CaFile), ca.ExportCertificatePem() + "\n");
        WritePrivate(Path.Combine(directory, CaKeyFile), caKey.ExportPkcs8PrivateKeyPem() + "\n");

        var serials = new List<string>(count);
        for (var i = 1; i <= count; i++)
        {
            var serial = $"{serialPrefix}{i:D6}";
            WritePrivate(Path.Combine(directory, DevicesDirectory, serial + ".pem"), IssueDevicePem(ca, serial, keyType));
            serials.Add(serial);
        }
        return serials;
    }

    /// <summary>One device certificate and key, PEM: subject <c>CN=&lt;serial&gt;, SERIALNUMBER=&lt;serial&gt;</c>.</summary>
    public static string IssueDevicePem(X509Certificate2 ca, string serial, DeviceKeyType keyType)
    {
        using AsymmetricAlgorithm key = keyType == DeviceKeyType.Rsa2048 ? RSA.Create(2048) : ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var subject = new X500DistinguishedNameBuilder();
        subject.AddOrganizationName("Onboarding DeviceSim");
        subject.Add("2.5.4.5", serial); // serialNumber (X.520), where 802.1AR IDevIDs carry the device serial
        subject.AddCommonName(serial);
        var name = subject.Build();
        var request = key is RSA rsa
            ? new CertificateRequest(name, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : new CertificateRequest(name, (ECDsa)key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.DigitalSignature | (key is RSA ? X509KeyUsageFlags.KeyEncipherment : X509KeyUsageFlags.KeyAgreement), true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false)); // id-kp-clientAuth
        var certificateSerial = RandomNumberGenerator.GetBytes(12);
        certificateSerial[0] &= 0x7F;
        // IEEE 802.1AR §8.5: an IDevID lives as long as the device (no well-defined expiry); 20 years for the demo.
        using var caKey = ca.GetECDsaPrivateKey() ?? throw new ArgumentException("the factory CA has no ECDSA private key", nameof(ca));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        // The generator overload, because Create(issuer) refuses an issuer key of another algorithm than the device's.
        using var certificate = request.Create(ca.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey),
            DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(20), certificateSerial);
        var pem = new StringBuilder();
        pem.Append(certificate.ExportCertificatePem()).Append('\n');
        pem.Append(key is RSA r ? r.ExportPkcs8PrivateKeyPem() : ((ECDsa)key).ExportPkcs8PrivateKeyPem()).Append('\n');
        return pem.ToString();
    }

    private static void WritePrivate(string path, string text)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var stream = new FileStream(path, options);
        stream.Write(Encoding.ASCII.GetBytes(text));
    }
}
