using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Onboarding.Redirect.Security;
using Onboarding.Redirect.Signing;
using Onboarding.Sztp;

namespace Onboarding.Redirect.Api;

/// <param name="Pem">The voucher root CA certificate, PEM: what the manufacturer installs in its devices at the factory.</param>
/// <param name="CertificatesOnlyCms">The same root as a certificates-only CMS (RFC 5652 §5), base64, the form RFC 8572 trust anchors take.</param>
internal sealed record VoucherTrustAnchorView(string Subject, string Sha256Fingerprint, DateTimeOffset NotAfter, string Pem, string CertificatesOnlyCms);

/// <param name="Pem">The new signing certificate (public part only), PEM.</param>
internal sealed record VoucherSigningCertificateView(string Subject, string Issuer, string Sha256Fingerprint, DateTimeOffset NotBefore, DateTimeOffset NotAfter, string Pem);

/// <summary>
/// The manufacturer's ownership-voucher signing identity (RFC 8366): the long-lived root its devices trust, and the
/// rotatable certificate that signs each device's voucher. Private keys never leave the key store.
/// </summary>
internal static class VoucherSigningApi
{
    /// <summary>Maps under <c>/api/redirect/manufacturers</c>.</summary>
    public static void Map(RouteGroupBuilder manufacturers)
    {
        manufacturers.MapGet("/me/voucher-trust-anchor", GetTrustAnchor)
            .WithName("RedirectVoucherTrustAnchor")
            .WithSummary("The voucher root CA to install in devices at the factory (PEM and certificates-only CMS); created on first use.")
            .RequireAuthorization(ManufacturerClaims.Policy);
        manufacturers.MapPost("/me/voucher-signing-certificate/rotate", RotateSigningCertificate)
            .WithName("RedirectRotateVoucherSigningCertificate")
            .WithSummary("Issue a new voucher signing certificate under the same root; devices keep trusting the root, so nothing changes for them.")
            .RequireAuthorization(ManufacturerClaims.Policy);
    }

    private static async Task<Ok<VoucherTrustAnchorView>> GetTrustAnchor(ClaimsPrincipal user, ManufacturerVoucherKeys keys, CancellationToken cancellationToken)
    {
        var identity = await keys.GetAsync(user.GetManufacturerId(), cancellationToken);
        using var root = X509CertificateLoader.LoadCertificate(identity.Root.RawData); // public part only
        return TypedResults.Ok(new VoucherTrustAnchorView(root.Subject, root.GetCertHashString(HashAlgorithmName.SHA256),
            new DateTimeOffset(root.NotAfter.ToUniversalTime()), root.ExportCertificatePem(), Convert.ToBase64String(SztpCms.EncodeCertificatesOnly([root]))));
    }

    private static async Task<Ok<VoucherSigningCertificateView>> RotateSigningCertificate(ClaimsPrincipal user, ManufacturerVoucherKeys keys,
        CancellationToken cancellationToken)
    {
        var identity = await keys.RotateSigningAsync(user.GetManufacturerId(), cancellationToken);
        var signing = identity.Signing;
        return TypedResults.Ok(new VoucherSigningCertificateView(signing.Subject, signing.Issuer, signing.GetCertHashString(HashAlgorithmName.SHA256),
            new DateTimeOffset(signing.NotBefore.ToUniversalTime()), new DateTimeOffset(signing.NotAfter.ToUniversalTime()), signing.ExportCertificatePem()));
    }
}
