using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;

namespace Onboarding.Sztp;

/// <summary>Content and content type taken out of a CMS structure.</summary>
public sealed record CmsContent(string ContentType, byte[] Content);

/// <summary>Content of a verified SignedData, with the certificate whose signature verified.</summary>
public sealed record SignedCmsContent(string ContentType, byte[] Content, X509Certificate2 Signer);

/// <summary>
/// The CMS structures of RFC 8572 §3: conveyed information unsigned (ContentInfo) or signed (SignedData), the
/// certificates-only SignedData of the owner certificate and trust anchors, and the SignedData around a voucher.
/// </summary>
public static class SztpCms
{
    /// <summary>Conveyed information, owner certificates and vouchers are small; 8 MiB leaves room for inline images.</summary>
    public const int DefaultMaxBytes = 8 * 1024 * 1024;

    private static readonly string[] ConveyedInfoTypes = [SztpOids.ConveyedInfoJson, SztpOids.ConveyedInfoXml];

    /// <summary>
    /// RFC 8572 §3.1: unsigned conveyed information is a ContentInfo whose "top-most content type MUST be one of the
    /// OIDs described in Section 10.3 … or the OID id-data"; "the associated content is an octet string containing
    /// 'conveyed-information' data in the expected encoding". So: SEQUENCE { contentType, [0] EXPLICIT OCTET STRING }.
    /// </summary>
    public static byte[] EncodeUnsigned(SztpEncoding encoding, ReadOnlySpan<byte> content)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(SztpOids.ConveyedInfo(encoding));
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
                writer.WriteOctetString(content);
        }
        return writer.Encode();
    }

    /// <summary>
    /// Reads unsigned conveyed information (BER accepted, as RFC 5652 allows). id-data is accepted too (§3.1);
    /// the caller then knows the encoding from elsewhere (the RPC's media type).
    /// </summary>
    public static CmsContent DecodeUnsigned(ReadOnlyMemory<byte> cms, int maxBytes = DefaultMaxBytes)
    {
        YangInput.CheckSize(cms.Length, maxBytes);
        try
        {
            var outer = new AsnReader(cms, AsnEncodingRules.BER);
            var contentInfo = outer.ReadSequence();
            outer.ThrowIfNotEmpty();
            var contentType = contentInfo.ReadObjectIdentifier();
            if (contentType == SztpOids.SignedData)
                throw new SztpException(SztpError.WrongContentType, "the conveyed information is signed (id-signedData); verify it as SignedData");
            if (!ConveyedInfoTypes.Contains(contentType) && contentType != SztpOids.Data)
                throw new SztpException(SztpError.WrongContentType, $"content type {contentType} is not SZTP conveyed information");
            var explicitContent = contentInfo.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true));
            contentInfo.ThrowIfNotEmpty();
            var content = explicitContent.ReadOctetString();
            explicitContent.ThrowIfNotEmpty();
            return new CmsContent(contentType, content);
        }
        catch (AsnContentException e)
        {
            throw new SztpException(SztpError.Malformed, $"not a CMS ContentInfo: {e.Message}", e);
        }
    }

    /// <summary>The top-most content type of a CMS ContentInfo, so a device can tell signed from unsigned.</summary>
    public static string ContentType(ReadOnlyMemory<byte> cms)
    {
        try
        {
            var contentInfo = new AsnReader(cms, AsnEncodingRules.BER).ReadSequence();
            return contentInfo.ReadObjectIdentifier();
        }
        catch (AsnContentException e)
        {
            throw new SztpException(SztpError.Malformed, $"not a CMS ContentInfo: {e.Message}", e);
        }
    }

    /// <summary>
    /// A SignedData (RFC 5652 §5) with <paramref name="eContentType"/> and the content attached, signed by
    /// <paramref name="signer"/> (which must hold its private key). RSA keys sign with PKCS#1 v1.5 unless
    /// <paramref name="rsaPadding"/> says otherwise, because device crypto chips often cannot verify PSS; ECDSA
    /// keys sign with ECDSA. The signer certificate and <paramref name="chain"/> are included so the verifier can
    /// find the signer and build a path to its trust anchor.
    /// </summary>
    public static byte[] Sign(string eContentType, byte[] content, X509Certificate2 signer,
        IEnumerable<X509Certificate2>? chain = null, RSASignaturePadding? rsaPadding = null)
    {
        ArgumentNullException.ThrowIfNull(signer);
        if (!signer.HasPrivateKey)
            throw new ArgumentException("the signer certificate carries no private key", nameof(signer));
        using var rsa = signer.GetRSAPrivateKey();
        var cmsSigner = rsa is not null
            ? new CmsSigner(SubjectIdentifierType.IssuerAndSerialNumber, signer, rsa, rsaPadding ?? RSASignaturePadding.Pkcs1)
            : new CmsSigner(SubjectIdentifierType.IssuerAndSerialNumber, signer);
        cmsSigner.DigestAlgorithm = new Oid("2.16.840.1.101.3.4.2.1"); // SHA-256
        cmsSigner.IncludeOption = X509IncludeOption.EndCertOnly;
        foreach (var certificate in chain ?? [])
            cmsSigner.Certificates.Add(certificate);
        // RFC 5652 §5.3: with an eContentType other than id-data, signed attributes (content-type and
        // message-digest) are required; SignedCms adds both.
        var signed = new SignedCms(new ContentInfo(new Oid(eContentType), content), detached: false);
        signed.ComputeSignature(cmsSigner, silent: true);
        return signed.Encode();
    }

    /// <summary>Signed conveyed information (RFC 8572 §3.1: id-signedData around id-ct-sztpConveyedInfo{JSON,XML}).</summary>
    public static byte[] SignConveyedInformation(SztpEncoding encoding, byte[] content, X509Certificate2 ownerCertificate,
        RSASignaturePadding? rsaPadding = null) =>
        Sign(SztpOids.ConveyedInfo(encoding), content, ownerCertificate, null, rsaPadding);

    /// <summary>
    /// Verifies a SignedData: exactly one signer, its signature over the content, an eContentType among
    /// <paramref name="allowedContentTypes"/>, and a signer certificate that is one of <paramref name="trusted"/> or
    /// chains to one of them at <paramref name="at"/>. <paramref name="extraCertificates"/> may supply the signer
    /// certificate when the SignedData does not carry it (RFC 8572 conveyed information signed by the owner
    /// certificate, which travels in its own artifact).
    /// </summary>
    public static SignedCmsContent VerifySigned(ReadOnlyMemory<byte> cms, IReadOnlyCollection<string> allowedContentTypes,
        X509Certificate2Collection trusted, DateTimeOffset at, X509Certificate2Collection? extraCertificates = null,
        int maxBytes = DefaultMaxBytes)
    {
        ArgumentNullException.ThrowIfNull(allowedContentTypes);
        ArgumentNullException.ThrowIfNull(trusted);
        var signed = DecodeSignedData(cms, maxBytes);
        var eContentType = signed.ContentInfo.ContentType.Value ?? "";
        if (!allowedContentTypes.Contains(eContentType))
            throw new SztpException(SztpError.WrongContentType,
                $"eContentType {eContentType} is not the expected {string.Join(" or ", allowedContentTypes)}");
        if (signed.Detached || signed.ContentInfo.Content.Length == 0)
            throw new SztpException(SztpError.Malformed, "the SignedData carries no content");
        if (signed.SignerInfos.Count != 1)
            throw new SztpException(SztpError.Malformed, $"expected one signer, found {signed.SignerInfos.Count}");
        var signerInfo = signed.SignerInfos[0];
        try
        {
            signerInfo.CheckSignature(extraCertificates ?? [], verifySignatureOnly: true);
        }
        catch (CryptographicException e)
        {
            throw new SztpException(SztpError.BadSignature, $"the signature does not verify: {e.Message}", e);
        }
        var signer = signerInfo.Certificate
            ?? throw new SztpException(SztpError.UntrustedSigner, "the signer certificate is neither in the SignedData nor supplied");
        var intermediates = new X509Certificate2Collection(signed.Certificates);
        if (extraCertificates is not null)
            intermediates.AddRange(extraCertificates);
        if (!Chains(signer, trusted, intermediates, at))
            throw new SztpException(SztpError.UntrustedSigner, $"the signer '{signer.Subject}' is not trusted");
        return new SignedCmsContent(eContentType, signed.ContentInfo.Content, signer);
    }

    /// <summary>
    /// A certificates-only CMS (RFC 5652 §5: a degenerate SignedData with no signers and no content, what RFC 8572
    /// §3.2 and the trust-anchor typedef call "certs-only"), written directly because SignedCms cannot encode
    /// a SignedData without signing it.
    /// </summary>
    public static byte[] EncodeCertificatesOnly(IEnumerable<X509Certificate2> certificates)
    {
        ArgumentNullException.ThrowIfNull(certificates);
        var list = certificates.ToList();
        if (list.Count == 0)
            throw new ArgumentException("a certificates-only CMS needs at least one certificate", nameof(certificates));
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(SztpOids.SignedData);
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
            using (writer.PushSequence())
            {
                writer.WriteInteger(1); // RFC 5652 §5.1: version 1 when only X.509 certificates and id-data
                using (writer.PushSetOf()) { } // digestAlgorithms: none
                using (writer.PushSequence())
                    writer.WriteObjectIdentifier(SztpOids.Data); // encapContentInfo without eContent
                using (writer.PushSetOf(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
                {
                    foreach (var certificate in list)
                        writer.WriteEncodedValue(certificate.RawData);
                }
                using (writer.PushSetOf()) { } // signerInfos: none
            }
        }
        return writer.Encode();
    }

    /// <summary>Reads a certificates-only CMS; a SignedData with signers or content is refused as not certs-only.</summary>
    public static X509Certificate2Collection DecodeCertificatesOnly(ReadOnlyMemory<byte> cms, int maxBytes = DefaultMaxBytes)
    {
        var signed = DecodeSignedData(cms, maxBytes);
        if (signed.SignerInfos.Count != 0 || signed.ContentInfo.Content.Length != 0)
            throw new SztpException(SztpError.Malformed, "not a certificates-only CMS: it has signers or content");
        if (signed.Certificates.Count == 0)
            throw new SztpException(SztpError.Malformed, "the certificates-only CMS holds no certificate");
        return signed.Certificates;
    }

    /// <summary>
    /// The one end-entity certificate of a certificates-only CMS (the owner certificate of RFC 8572 §3.2). A SET OF
    /// certificates has no order (DER sorts it), so it is the one that issued none of the others.
    /// </summary>
    public static X509Certificate2 EndEntity(X509Certificate2Collection certificates)
    {
        ArgumentNullException.ThrowIfNull(certificates);
        var leaves = certificates.Where(c => !certificates.Any(o =>
            !ReferenceEquals(o, c) && o.IssuerName.RawData.AsSpan().SequenceEqual(c.SubjectName.RawData) &&
            !o.SubjectName.RawData.AsSpan().SequenceEqual(c.SubjectName.RawData))).ToList();
        return leaves.Count == 1 ? leaves[0]
            : throw new SztpException(SztpError.Malformed, $"the owner-certificate CMS has {leaves.Count} end-entity certificates, expected one");
    }

    private static SignedCms DecodeSignedData(ReadOnlyMemory<byte> cms, int maxBytes)
    {
        YangInput.CheckSize(cms.Length, maxBytes);
        var contentType = ContentType(cms);
        if (contentType != SztpOids.SignedData)
            throw new SztpException(SztpError.WrongContentType, $"content type {contentType} is not id-signedData");
        var signed = new SignedCms();
        try
        {
            signed.Decode(cms.Span);
            // Certificates and signer infos are decoded lazily: touch them here so a corrupt one is Malformed.
            _ = signed.Certificates.Count;
            foreach (var signer in signed.SignerInfos)
                _ = signer.Certificate;
        }
        catch (CryptographicException e)
        {
            throw new SztpException(SztpError.Malformed, $"not a valid SignedData: {e.Message}", e);
        }
        return signed;
    }

    /// <summary>The certificate is one of the anchors, or a path from it to one of them is valid at the time.</summary>
    internal static bool Chains(X509Certificate2 certificate, X509Certificate2Collection anchors,
        X509Certificate2Collection intermediates, DateTimeOffset at)
    {
        if (anchors.Count == 0)
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(anchors);
        chain.ChainPolicy.ExtraStore.AddRange(intermediates);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = at.UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        // Only the intermediates the CMS carried: no fetching of issuers the signer's certificate names (AIA).
        chain.ChainPolicy.DisableCertificateDownloads = true;
        if (chain.Build(certificate))
            return true;
        // A trusted end-entity certificate that is not a CA (e.g. a pinned signer) is trusted as itself, if valid.
        return anchors.Any(a => a.RawDataMemory.Span.SequenceEqual(certificate.RawDataMemory.Span))
            && at >= certificate.NotBefore.ToUniversalTime() && at <= certificate.NotAfter.ToUniversalTime();
    }
}
