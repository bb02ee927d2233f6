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
    public NmsBootstrapIdentity(IOptions<NmsIdentityOptions> identityOptions, IOptions<NmsEndpointOptions> endpointOptions,
        KeyStore keyStore, TimeProvider clock, ILogger<NmsBootstrapIdentity> logger)
    {
        var directory = keyStore.PrivateDirectory(identityOptions.Value.Directory, NmsIdentityOptions.KeyStoreSubdirectory);
        var endpoint = endpointOptions.Value;
        var now = clock.GetUtcNow();

        RootCertificate = KeyStoreCertificates.LoadOrCreate(Path.Combine(directory, RootFileName),
            () => KeyStoreCertificates.CreateRoot("CN=Onboarding NMS Root CA, O=Onboarding", now), logger);
        OwnerCertificate = KeyStoreCertificates.LoadOrCreate(Path.Combine(directory, OwnerFileName), () => IssueOwner(RootCertificate, now), logger);
        BootstrapTlsCertificate = KeyStoreCertificates.LoadOrCreate(Path.Combine(directory, TlsFileName),
            () => KeyStoreCertificates.IssueTls(RootCertificate, endpoint.PublicHost, now), logger);
        if (!KeyStoreCertificates.Fits(BootstrapTlsCertificate, endpoint.PublicHost, now))
        {
            // Nms:PublicHost changed or the certificate is about to expire: a new leaf under the same root keeps every
            // trust anchor already handed out valid.
            BootstrapTlsCertificate.Dispose();
            BootstrapTlsCertificate = KeyStoreCertificates.IssueTls(RootCertificate, endpoint.PublicHost, now);
            KeyStoreCertificates.Replace(Path.Combine(directory, TlsFileName), BootstrapTlsCertificate);
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

    /// <summary>RFC 8572 §3.2: the owner certificate signs conveyed information, so it needs digitalSignature only.</summary>
    private static X509Certificate2 IssueOwner(X509Certificate2 root, DateTimeOffset now)
    {
        using var key = RSA.Create(KeyStoreCertificates.RsaBits);
        var request = new CertificateRequest("CN=Onboarding NMS Owner, O=Onboarding", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(root, true, false));
        return KeyStoreCertificates.Issue(request, root, key, now, now.AddYears(10));
    }
}
