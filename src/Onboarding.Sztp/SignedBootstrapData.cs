using System.Security.Cryptography.X509Certificates;

namespace Onboarding.Sztp;

/// <summary>Signed bootstrapping data that verified: the conveyed information, and the voucher and owner certificate that vouched for it.</summary>
public sealed record VerifiedBootstrapData(
    SztpEncoding Encoding,
    byte[] ConveyedInformation,
    OwnershipVoucher Voucher,
    X509Certificate2 OwnerCertificate);

/// <summary>
/// What a device does with a get-bootstrapping-data output that carries an owner certificate and an ownership voucher
/// (RFC 8572 §5.4, "Processing Owner Certificates and Ownership Vouchers"), knowing only its manufacturer's voucher
/// trust anchors (installed at the factory) and its own serial number and nonce:
/// <list type="number">
/// <item>the ownership voucher is a SignedData with eContentType id-ct-animaJSONVoucher whose signer chains to a
/// manufacturer trust anchor, for this serial, not expired, echoing the nonce the device sent (RFC 8366 §5.3);</item>
/// <item>the owner certificate (certificates-only CMS) chains to the voucher's pinned-domain-cert;</item>
/// <item>the conveyed information is a SignedData with eContentType id-ct-sztpConveyedInfo{JSON,XML} signed by that
/// owner certificate (RFC 8572 §3.1, §5.5).</item>
/// </list>
/// The redirect server checks its own output with this before a device sees it, and the device simulator uses it as a
/// device would.
/// </summary>
public static class SignedBootstrapData
{
    private static readonly string[] ConveyedInfoTypes = [SztpOids.ConveyedInfoJson, SztpOids.ConveyedInfoXml];

    /// <summary>
    /// Verifies the chain of trust voucher → pinned owner certificate → signed conveyed information, or throws an
    /// <see cref="SztpException"/>: <see cref="SztpError.Malformed"/> for missing artifacts or bad encodings,
    /// <see cref="SztpError.WrongContentType"/>, <see cref="SztpError.BadSignature"/>,
    /// <see cref="SztpError.UntrustedSigner"/> (voucher not from a trusted manufacturer, owner certificate not pinned,
    /// conveyed information signed by someone else), or <see cref="SztpError.VoucherMismatch"/> (another serial,
    /// expired, wrong or missing nonce).
    /// </summary>
    /// <param name="nonce">The nonce the device sent in its get-bootstrapping-data input, if any.</param>
    public static VerifiedBootstrapData Verify(GetBootstrappingDataOutput output, X509Certificate2Collection manufacturerTrustAnchors,
        string serialNumber, byte[]? nonce, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(manufacturerTrustAnchors);
        ArgumentException.ThrowIfNullOrEmpty(serialNumber);
        // RFC 8572 §7.2: owner-certificate and ownership-voucher come together; without them the data is not signed
        // data a device can trust without having authenticated the server.
        if (output.OwnerCertificate is not { Length: > 0 } ownerCms || output.OwnershipVoucher is not { Length: > 0 } voucherCms)
            throw new SztpException(SztpError.Malformed, "signed bootstrapping data needs both owner-certificate and ownership-voucher");

        var voucher = OwnershipVoucher.Verify(voucherCms, manufacturerTrustAnchors, serialNumber, ownerCms, now, nonce);

        // RFC 8572 §5.5: the conveyed information is verified with the owner certificate itself. Trusting exactly that
        // certificate (not its issuer) refuses a document signed by another certificate of the same owner CA.
        var owner = voucher.OwnerCertificate;
        var conveyed = SztpCms.VerifySigned(output.ConveyedInformation, ConveyedInfoTypes, [owner], now, [owner]);
        if (!conveyed.Signer.RawDataMemory.Span.SequenceEqual(owner.RawDataMemory.Span))
            throw new SztpException(SztpError.UntrustedSigner, $"the conveyed information is signed by '{conveyed.Signer.Subject}', not the owner certificate");
        var encoding = conveyed.ContentType == SztpOids.ConveyedInfoJson ? SztpEncoding.Json : SztpEncoding.Xml;
        return new VerifiedBootstrapData(encoding, conveyed.Content, voucher.Voucher, owner);
    }
}
