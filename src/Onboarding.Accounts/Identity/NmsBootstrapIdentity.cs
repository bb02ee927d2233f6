using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Onboarding.Accounts.Contracts;
using Onboarding.ServiceDefaults.Keys;
using Onboarding.Sztp;

namespace Onboarding.Accounts.Identity;

/// <summary>
/// Loads the NMS's RFC 8572 identities from the key store, generating what is missing on first start: a root CA, the
/// owner certificate and the bootstrap server's TLS certificate, each in one PEM file (certificate + PKCS#8 key, 0600).
/// All keys are RSA 3072 and every signature is RSA PKCS#1 v1.5 with SHA-256, because strict devices' crypto chips
/// verify PKCS#1 v1.5 but not PSS, and some do not do ECDSA at all (DESIGN.md, "Conveyed information").
/// One root issues both leaves: the trust anchor handed to devices is that root, and the owner certificate chains to it.
/// </summary>
internal sealed class NmsBootstrapIdentity : INmsBootstrapIdentity, IDisposable
{
    public const string RootFileName = "nms-root-ca.pem";
    public const string OwnerFileName = "owner.pem";
    public const string TlsFileName = "bootstrap-tls.pem";
    private const int RsaBits = 3072;

    // A TLS certificate this close to expiry is replaced at start-up; the root (and so the trust anchor) stays.
    private static readonly TimeSpan TlsRenewBefore = TimeSpan.FromDays(30);

    public NmsBootstrapIdentity(IOptions<NmsIdentityOptions> identityOptions, IOptions<NmsEndpointOptions> endpointOptions,
        KeyStore keyStore, TimeProvider clock, ILogger<NmsBootstrapIdentity> logger)
    {
        var directory = keyStore.PrivateDirectory(identityOptions.Value.Directory, NmsIdentityOptions.KeyStoreSubdirectory);
        var endpoint = endpointOptions.Value;
        var now = clock.GetUtcNow();

        RootCertificate = LoadOrCreate(Path.Combine(directory, RootFileName), () => CreateRoot(now), logger);
        OwnerCertificate = LoadOrCreate(Path.Combine(directory, OwnerFileName), () => IssueOwner(RootCertificate, now), logger);
        BootstrapTlsCertificate = LoadOrCreate(Path.Combine(directory, TlsFileName), () => IssueTls(RootCertificate, endpoint.PublicHost, now), logger);
        if (!Fits(BootstrapTlsCertificate, endpoint.PublicHost, now))
        {
            // Nms:PublicHost changed or the certificate is about to expire: a new leaf under the same root keeps every
            // trust anchor already handed out valid.
            BootstrapTlsCertificate.Dispose();
            BootstrapTlsCertificate = IssueTls(RootCertificate, endpoint.PublicHost, now);
            Replace(Path.Combine(directory, TlsFileName), BootstrapTlsCertificate);
            logger.LogInformation("Reissued the NMS bootstrap TLS certificate for {Host} (not after {NotAfter})", endpoint.PublicHost, BootstrapTlsCertificate.NotAfter);
        }

        BootstrapUrl = endpoint.BootstrapUrl;
        using var rootPublic = X509CertificateLoader.LoadCertificate(RootCertificate.RawData);
        using var ownerPublic = X509CertificateLoader.LoadCertificate(OwnerCertificate.RawData);
        TrustAnchorCms = SztpCms.EncodeCertificatesOnly([rootPublic]);
        OwnerCertificateCms = SztpCms.EncodeCertificatesOnly([ownerPublic, rootPublic]);
        var redirect = new RedirectInformation([new BootstrapServer(endpoint.PublicHost, checked((ushort)endpoint.BootstrapPort), TrustAnchorCms)]);
        SignedRedirectInformation = SztpCms.SignConveyedInformation(SztpEncoding.Json,
            ConveyedInformationCodec.Encode(redirect, SztpEncoding.Json), OwnerCertificate, RSASignaturePadding.Pkcs1);
    }

    public X509Certificate2 RootCertificate { get; }

    public X509Certificate2 OwnerCertificate { get; }

    public X509Certificate2 BootstrapTlsCertificate { get; }

    public Uri BootstrapUrl { get; }

    public byte[] TrustAnchorCms { get; }

    public byte[] OwnerCertificateCms { get; }

    public byte[] SignedRedirectInformation { get; }

    public void Dispose()
    {
        RootCertificate.Dispose();
        OwnerCertificate.Dispose();
        BootstrapTlsCertificate.Dispose();
    }

    private static X509Certificate2 LoadOrCreate(string path, Func<X509Certificate2> create, ILogger logger)
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

    private static void Replace(string path, X509Certificate2 certificate)
    {
        var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        KeyStore.WritePrivateFile(temporary, Pem(certificate));
        File.Move(temporary, path, overwrite: true);
    }

    private static X509Certificate2 Load(string path)
    {
        var pem = File.ReadAllText(path);
        using var certificate = X509Certificate2.CreateFromPem(pem, pem);
        // Re-imported from PKCS#12 so the private key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }

    private static string Pem(X509Certificate2 certificate)
    {
        using var key = certificate.GetRSAPrivateKey() ?? throw new InvalidOperationException("certificate has no RSA private key");
        return certificate.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem() + "\n";
    }

    private static bool Fits(X509Certificate2 tls, string host, DateTimeOffset now) =>
        tls.NotAfter.ToUniversalTime() > (now + TlsRenewBefore).UtcDateTime && tls.MatchesHostname(host, allowWildcards: false);

    private static X509Certificate2 CreateRoot(DateTimeOffset now)
    {
        using var key = RSA.Create(RsaBits);
        var request = new CertificateRequest("CN=Onboarding NMS Root CA, O=Onboarding", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(now.AddDays(-1), now.AddYears(20)); // carries the key already
    }

    /// <summary>RFC 8572 §3.2: the owner certificate signs conveyed information, so it needs digitalSignature only.</summary>
    private static X509Certificate2 IssueOwner(X509Certificate2 root, DateTimeOffset now)
    {
        using var key = RSA.Create(RsaBits);
        var request = new CertificateRequest("CN=Onboarding NMS Owner, O=Onboarding", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(root, true, false));
        return Issue(request, root, key, now, now.AddYears(10));
    }

    private static X509Certificate2 IssueTls(X509Certificate2 root, string host, DateTimeOffset now)
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

    private static X509Certificate2 Issue(CertificateRequest request, X509Certificate2 root, RSA key, DateTimeOffset now, DateTimeOffset notAfter)
    {
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // RFC 5280 §4.1.2.2: positive
        serial[0] |= 0x01; // and without a leading zero byte
        using var certificate = request.Create(root, now.AddMinutes(-5), notAfter, serial);
        return certificate.CopyWithPrivateKey(key);
    }
}
