using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Onboarding.ServiceDefaults.Keys;

namespace Onboarding.Telemetry.Pki;

/// <summary>
/// The NMS device CA (ECDSA P-256): issues each device's broker client certificate (CN = serial, which mosquitto
/// uses as the user name for the pattern ACL) and the broker's server certificate, and publishes the CRL.
/// Generated on first start into the CA directory; the key file is 0600.
/// </summary>
internal sealed class DeviceCertificateAuthority : IDisposable
{
    public const string KeyFileName = "device-ca.key";
    public const string CertificateFileName = "device-ca.crt";
    public const string CrlFileName = "device-ca.crl";
    public const string IngesterSecretFileName = "ingester.secret";


    private readonly ECDsa _key;

    private DeviceCertificateAuthority(string directory, ECDsa key, X509Certificate2 certificate, string ingesterSecret)
    {
        Directory = directory;
        _key = key;
        Certificate = certificate;
        IngesterSecret = ingesterSecret;
    }

    public string Directory { get; }

    /// <summary>The CA certificate, with its private key (for signing).</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The internal broker listener's password for the ingester.</summary>
    public string IngesterSecret { get; }

    public string CertificatePath => Path.Combine(Directory, CertificateFileName);

    public string CrlPath => Path.Combine(Directory, CrlFileName);

    public string CertificatePem => Certificate.ExportCertificatePem();

    public static DeviceCertificateAuthority LoadOrCreate(string directory)
    {
        System.IO.Directory.CreateDirectory(directory);
        var keyPath = Path.Combine(directory, KeyFileName);
        var certificatePath = Path.Combine(directory, CertificateFileName);
        if (!File.Exists(keyPath))
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=Onboarding NMS Device CA, O=Onboarding", key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
            using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(20));
            try
            {
                // CreateNew: when two hosts share the directory and start together, one writes and the other reads.
                KeyStore.WritePrivateFile(keyPath, key.ExportPkcs8PrivateKeyPem());
                File.WriteAllText(certificatePath, created.ExportCertificatePem() + "\n");
            }
            catch (IOException) when (File.Exists(keyPath))
            {
                // Another host won the race; fall through and load what it wrote.
            }
        }

        var secretPath = Path.Combine(directory, IngesterSecretFileName);
        if (!File.Exists(secretPath))
        {
            try
            {
                KeyStore.WritePrivateFile(secretPath, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
            }
            catch (IOException) when (File.Exists(secretPath))
            {
            }
        }

        var ecdsa = ECDsa.Create();
        ecdsa.ImportFromPem(File.ReadAllText(keyPath));
        using var publicOnly = WaitForCertificate(certificatePath);
        var certificate = publicOnly.CopyWithPrivateKey(ecdsa);
        var ca = new DeviceCertificateAuthority(directory, ecdsa, certificate, File.ReadAllText(secretPath).Trim());
        if (!File.Exists(ca.CrlPath))
            ca.PublishCrl([]);
        return ca;
    }

    /// <summary>A client certificate for one device: CN = serial, clientAuth, signed by this CA. Returns the certificate with its key.</summary>
    public X509Certificate2 IssueDeviceCertificate(string serialNumber, TimeSpan lifetime)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = IssueDeviceCertificate(serialNumber, new CertificateRequest(DeviceName(serialNumber), key, HashAlgorithmName.SHA256), lifetime);
        return certificate.CopyWithPrivateKey(key);
    }

    /// <summary>
    /// A client certificate for the public key the device sent (its PKCS#10 request, signature already checked): the
    /// device keeps its private key. The subject and extensions are ours (CN = serial); nothing else of the request is used.
    /// </summary>
    public X509Certificate2 IssueDeviceCertificate(string serialNumber, PublicKey devicePublicKey, TimeSpan lifetime) =>
        IssueDeviceCertificate(serialNumber, new CertificateRequest(DeviceName(serialNumber), devicePublicKey, HashAlgorithmName.SHA256), lifetime);

    private X509Certificate2 IssueDeviceCertificate(string serialNumber, CertificateRequest request, TimeSpan lifetime)
    {
        ArgumentException.ThrowIfNullOrEmpty(serialNumber);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, true, false));
        var now = DateTimeOffset.UtcNow;
        return request.Create(Certificate, now.AddMinutes(-5), now.Add(lifetime), NewSerialNumber());
    }

    private static X500DistinguishedName DeviceName(string serialNumber)
    {
        var name = new X500DistinguishedNameBuilder();
        name.AddOrganizationName("Onboarding devices");
        name.AddCommonName(serialNumber);
        return name.Build();
    }

    /// <summary>The broker's TLS server certificate (serverAuth) for the names devices and tests use.</summary>
    public X509Certificate2 IssueServerCertificate(IEnumerable<string> dnsNames)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var names = dnsNames.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var request = new CertificateRequest($"CN={names[0]}, O=Onboarding", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var dnsName in names)
        {
            if (System.Net.IPAddress.TryParse(dnsName, out var address))
                san.AddIpAddress(address);
            else
                san.AddDnsName(dnsName);
        }

        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, true, false));
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.Create(Certificate, now.AddMinutes(-5), now.AddYears(2), NewSerialNumber());
        return certificate.CopyWithPrivateKey(key);
    }

    /// <summary>
    /// Writes the CRL (PEM) atomically. OpenSSL refuses an expired CRL, so every publication is valid for a year and
    /// the host republishes it at start-up. Mosquitto reads it when the listener starts and on SIGHUP.
    /// </summary>
    public void PublishCrl(IEnumerable<(string SerialHex, DateTimeOffset RevokedAt)> revoked)
    {
        var builder = new CertificateRevocationListBuilder();
        foreach (var (serialHex, revokedAt) in revoked)
            builder.AddEntry(Convert.FromHexString(serialHex), revokedAt, X509RevocationReason.CessationOfOperation);
        var now = DateTimeOffset.UtcNow;
        var der = builder.Build(Certificate, new BigInteger(now.ToUnixTimeMilliseconds()), now.AddYears(1), HashAlgorithmName.SHA256,
            thisUpdate: now.AddMinutes(-5));
        var pem = new string(PemEncoding.Write("X509 CRL", der)) + "\n";
        var temporary = CrlPath + "." + Guid.NewGuid().ToString("N") + ".tmp";
        File.WriteAllText(temporary, pem, Encoding.ASCII);
        File.Move(temporary, CrlPath, overwrite: true);
    }

    public void Dispose()
    {
        Certificate.Dispose();
        _key.Dispose();
    }

    public static string PrivateKeyPem(X509Certificate2 certificate)
    {
        using var key = certificate.GetECDsaPrivateKey() ?? throw new InvalidOperationException("certificate has no ECDSA private key");
        return key.ExportPkcs8PrivateKeyPem();
    }

    private static byte[] NewSerialNumber()
    {
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // positive, as RFC 5280 §4.1.2.2 requires
        serial[0] |= 0x01; // and no leading zero byte, so the hex form round-trips exactly
        return serial;
    }

    private static X509Certificate2 WaitForCertificate(string path)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var parsed = X509Certificate2.CreateFromPem(File.ReadAllText(path));
                return X509CertificateLoader.LoadCertificate(parsed.RawData);
            }
            catch (Exception ex) when (attempt < 50 && ex is IOException or CryptographicException or ArgumentException)
            {
                Thread.Sleep(100);
            }
        }
    }
}
