using System.Security.Cryptography.X509Certificates;
using Onboarding.Sztp;

namespace Onboarding.Redirect.Signing;

/// <summary>
/// The signed-mode members of a hand-off bundle, checked for consistency: the owner certificate (certificates-only CMS)
/// and the NMS-signed redirect-information, which must be a SignedData with eContentType id-ct-sztpConveyedInfoJSON or
/// …XML (RFC 8572 §3.1), signed by exactly that owner certificate, holding redirect-information. A device checks the
/// same (RFC 8572 §5.5) and would reject the redirect server's answer otherwise, so an inconsistent bundle is refused
/// at import and never reaches a device.
/// </summary>
internal sealed record OwnerArtifacts(byte[] OwnerCertificateCms, X509Certificate2 OwnerCertificate, byte[] SignedRedirectInformation)
{
    public const string OwnerCertificateField = "ownerCertificate";
    public const string SignedRedirectInformationField = "signedRedirectInformation";
    private static readonly string[] ConveyedInfoTypes = [SztpOids.ConveyedInfoJson, SztpOids.ConveyedInfoXml];

    /// <summary>Checks both members (base64 as in the bundle); a failure names the member it is about.</summary>
    public static OwnerArtifacts Parse(string ownerCertificate, string signedRedirectInformation, DateTimeOffset now)
    {
        var ownerCms = Decode(ownerCertificate, OwnerCertificateField);
        X509Certificate2 owner;
        try
        {
            owner = SztpCms.EndEntity(SztpCms.DecodeCertificatesOnly(ownerCms));
        }
        catch (SztpException e)
        {
            throw new OwnerArtifactsException(OwnerCertificateField, $"Must be a certificates-only CMS holding one owner certificate: {e.Message}", e);
        }
        if (now < owner.NotBefore.ToUniversalTime() || now > owner.NotAfter.ToUniversalTime())
            throw new OwnerArtifactsException(OwnerCertificateField,
                $"The owner certificate '{owner.Subject}' is not valid now (valid {owner.NotBefore:u} to {owner.NotAfter:u}).");

        var signed = Decode(signedRedirectInformation, SignedRedirectInformationField);
        try
        {
            var content = SztpCms.VerifySigned(signed, ConveyedInfoTypes, [owner], now, [owner]);
            if (!content.Signer.RawDataMemory.Span.SequenceEqual(owner.RawDataMemory.Span))
                throw new SztpException(SztpError.UntrustedSigner, $"signed by '{content.Signer.Subject}', not by the owner certificate");
            var encoding = content.ContentType == SztpOids.ConveyedInfoJson ? SztpEncoding.Json : SztpEncoding.Xml;
            if (ConveyedInformationCodec.Decode(content.Content, encoding) is not RedirectInformation)
                throw new SztpException(SztpError.WrongContentType, "the signed conveyed information is not redirect-information");
        }
        catch (SztpException e)
        {
            throw new OwnerArtifactsException(SignedRedirectInformationField,
                $"Must be RFC 8572 redirect-information in a CMS SignedData signed by the bundle's owner certificate: {e.Message}", e);
        }
        return new OwnerArtifacts(ownerCms, owner, signed);
    }

    /// <summary>Import-time validation: field errors for a bundle whose signed-mode members are inconsistent.</summary>
    public static void Validate(string? ownerCertificate, string? signedRedirectInformation, DateTimeOffset now, IDictionary<string, string[]> errors)
    {
        if (errors.ContainsKey(OwnerCertificateField) || errors.ContainsKey(SignedRedirectInformationField))
            return; // not base64: already reported
        if (ownerCertificate is null && signedRedirectInformation is null)
            return; // an unsigned-only profile
        if (ownerCertificate is null || signedRedirectInformation is null)
        {
            var missing = ownerCertificate is null ? OwnerCertificateField : SignedRedirectInformationField;
            errors[missing] = ["Required when the bundle carries the other signed-mode member: ownerCertificate and signedRedirectInformation come together."];
            return;
        }
        try
        {
            Parse(ownerCertificate, signedRedirectInformation, now);
        }
        catch (OwnerArtifactsException e)
        {
            errors[e.Field] = [e.Message];
        }
    }

    private static byte[] Decode(string base64, string field)
    {
        try
        {
            return Convert.FromBase64String(base64);
        }
        catch (FormatException e)
        {
            throw new OwnerArtifactsException(field, "Must be standard base64 (padded).", e);
        }
    }
}

/// <summary>A signed-mode member of an NMS profile that a device would reject; <see cref="Field"/> names the bundle member.</summary>
internal sealed class OwnerArtifactsException(string field, string message, Exception? inner = null) : Exception(message, inner)
{
    public string Field { get; } = field;
}
