using System.Security.Cryptography.X509Certificates;

namespace Onboarding.Accounts.Contracts;

/// <summary>
/// The NMS's RFC 8572 identities, kept in the key store: the owner certificate whose key signs conveyed information
/// for this NMS, and the TLS certificate of the NMS bootstrap server with the trust anchor devices authenticate it by.
/// The hand-off bundle publishes the public halves; the NMS bootstrap server presents the TLS certificate.
/// </summary>
public interface INmsBootstrapIdentity
{
    /// <summary>The NMS root CA: issuer of the owner certificate and of the bootstrap server's TLS certificate.</summary>
    X509Certificate2 RootCertificate { get; }

    /// <summary>The owner certificate, with its private key (RFC 8572 §3.2 owner-certificate's end-entity).</summary>
    X509Certificate2 OwnerCertificate { get; }

    /// <summary>The bootstrap server's TLS server certificate (SAN = <c>Nms:PublicHost</c>), with its private key.</summary>
    X509Certificate2 BootstrapTlsCertificate { get; }

    /// <summary>Where devices reach the NMS bootstrap server, e.g. <c>https://nms.example:8443</c>.</summary>
    Uri BootstrapUrl { get; }

    /// <summary>Certificates-only CMS holding the trust anchor of <see cref="BootstrapTlsCertificate"/> (RFC 8572 §6.3 trust-anchor).</summary>
    byte[] TrustAnchorCms { get; }

    /// <summary>Certificates-only CMS: the owner certificate and its issuer (RFC 8572 §3.2).</summary>
    byte[] OwnerCertificateCms { get; }

    /// <summary>
    /// Redirect-information (JSON) naming the NMS bootstrap server and its trust anchor, as SignedData signed by the owner
    /// key. It names no device, so this one document serves every device (DESIGN.md, "The hand-off bundle").
    /// </summary>
    byte[] SignedRedirectInformation { get; }
}
