using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Onboarding.ServiceDefaults.Keys;
using Onboarding.Sztp;

namespace Onboarding.Redirect.Bootstrap;

/// <summary>
/// The redirect server's TLS identity on its device-facing port: an operator's PEM (<c>Redirect:Bootstrap:CertificateFile</c>:
/// the certificate, its chain and the private key), or a root CA and a TLS leaf for <c>Redirect:PublicHost</c> generated on
/// first start in the key store (RSA 3072, PKCS#1 v1.5, like the NMS's). The trust anchor manufacturers bake into devices
/// is the top of that chain: the generated root, or the last certificate of the operator's file.
/// </summary>
internal sealed class RedirectBootstrapIdentity : IDisposable
{
    public const string KeyStoreSubdirectory = "redirect-identity";
    public const string RootFileName = "redirect-root-ca.pem";
    public const string TlsFileName = "bootstrap-tls.pem";

    public RedirectBootstrapIdentity(IOptions<RedirectOptions> options, KeyStore keyStore, TimeProvider clock, ILogger<RedirectBootstrapIdentity> logger)
    {
        var settings = options.Value;
        var now = clock.GetUtcNow();
        if (!string.IsNullOrWhiteSpace(settings.Bootstrap.CertificateFile))
        {
            var pem = File.ReadAllText(settings.Bootstrap.CertificateFile);
            using var leaf = X509Certificate2.CreateFromPem(pem, pem);
            TlsCertificate = X509CertificateLoader.LoadPkcs12(leaf.Export(X509ContentType.Pkcs12), null);
            var all = new X509Certificate2Collection();
            all.ImportFromPem(pem);
            Intermediates = [.. all.Where(c => !c.RawDataMemory.Span.SequenceEqual(TlsCertificate.RawDataMemory.Span))];
            TrustAnchor = X509CertificateLoader.LoadCertificate((Intermediates.Count > 0 ? Intermediates[^1] : TlsCertificate).RawData);
            logger.LogInformation("Redirect bootstrap TLS certificate {Subject} from {Path}", TlsCertificate.Subject, settings.Bootstrap.CertificateFile);
        }
        else
        {
            var directory = keyStore.PrivateDirectory(settings.IdentityDirectory, KeyStoreSubdirectory);
            using var root = KeyStoreCertificates.LoadOrCreate(Path.Combine(directory, RootFileName),
                () => KeyStoreCertificates.CreateRoot("CN=Onboarding Redirect Root CA, O=Onboarding", now), logger);
            var tlsPath = Path.Combine(directory, TlsFileName);
            TlsCertificate = KeyStoreCertificates.LoadOrCreate(tlsPath, () => KeyStoreCertificates.IssueTls(root, settings.PublicHost, now), logger);
            if (!KeyStoreCertificates.Fits(TlsCertificate, settings.PublicHost, now))
            {
                // Redirect:PublicHost changed or the certificate nears expiry: a new leaf under the same root keeps the
                // trust anchor baked into devices valid.
                TlsCertificate.Dispose();
                TlsCertificate = KeyStoreCertificates.IssueTls(root, settings.PublicHost, now);
                KeyStoreCertificates.Replace(tlsPath, TlsCertificate);
                logger.LogInformation("Reissued the redirect bootstrap TLS certificate for {Host} (not after {NotAfter})", settings.PublicHost, TlsCertificate.NotAfter);
            }

            Intermediates = [];
            TrustAnchor = X509CertificateLoader.LoadCertificate(root.RawData); // public part only
        }

        TrustAnchorCms = SztpCms.EncodeCertificatesOnly([TrustAnchor]);
    }

    public X509Certificate2 TlsCertificate { get; }

    public IReadOnlyList<X509Certificate2> Intermediates { get; }

    /// <summary>What devices must trust for this server (public certificate only).</summary>
    public X509Certificate2 TrustAnchor { get; }

    /// <summary>The trust anchor as a certificates-only CMS (RFC 8572 §6.3 trust-anchor typedef).</summary>
    public byte[] TrustAnchorCms { get; }

    public void Dispose()
    {
        TlsCertificate.Dispose();
        TrustAnchor.Dispose();
        foreach (var certificate in Intermediates)
            certificate.Dispose();
    }
}
