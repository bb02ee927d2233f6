using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace Onboarding.Sztp;

/// <summary>RFC 8366 §5.3 leaf assertion.</summary>
public enum VoucherAssertion
{
    Verified,
    Logged,
    Proximity,
}

/// <summary>
/// An RFC 8366 ownership voucher (module ietf-voucher, JSON <c>ietf-voucher:voucher</c>): the manufacturer's signed
/// statement that the device with <paramref name="SerialNumber"/> belongs to whoever holds a certificate chaining to
/// <paramref name="PinnedDomainCert"/> (DER). Only the leaves SZTP needs are written (RFC 8572 §3.3).
/// </summary>
public sealed record OwnershipVoucher(
    DateTimeOffset CreatedOn,
    DateTimeOffset? ExpiresOn,
    VoucherAssertion Assertion,
    string SerialNumber,
    byte[] PinnedDomainCert,
    byte[]? Nonce = null)
{
    public const string Module = "ietf-voucher";
    private const int MaxBytes = 64 * 1024;
    // RFC 8366 §5.3: expires-on has "must 'not(../nonce)'" and nonce "must 'not(../expires-on)'": a nonce voucher is
    // fresh by construction, a voucher without one is bounded in time instead.
    private const string NonceOrExpiry = "a voucher carries expires-on or nonce, not both (RFC 8366 §5.3)";

    public byte[] ToJson()
    {
        if (string.IsNullOrEmpty(SerialNumber))
            throw new ArgumentException("a voucher needs a serial-number");
        if (ExpiresOn is not null && Nonce is not null)
            throw new ArgumentException(NonceOrExpiry);
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartObject($"{Module}:voucher");
            json.WriteString("created-on", DateAndTime(CreatedOn));
            if (ExpiresOn is { } expires)
                json.WriteString("expires-on", DateAndTime(expires));
            json.WriteString("assertion", Assertion.ToString().ToLowerInvariant());
            json.WriteString("serial-number", SerialNumber);
            json.WriteBase64String("pinned-domain-cert", PinnedDomainCert);
            if (Nonce is { } nonce)
                json.WriteBase64String("nonce", nonce);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static OwnershipVoucher FromJson(ReadOnlyMemory<byte> json)
    {
        using var document = YangInput.ParseJson(json, MaxBytes);
        var voucher = YangInput.TopLevel(document, $"{Module}:voucher");
        // RFC 8366 defines more leaves (idevid-issuer, domain-cert-revocation-checks, last-renewal-date); they are
        // accepted but not interpreted, since RFC 8572 devices act only on the ones below.
        YangInput.CheckMembers(voucher, "voucher", "created-on", "expires-on", "assertion", "serial-number",
            "idevid-issuer", "pinned-domain-cert", "domain-cert-revocation-checks", "nonce", "last-renewal-date",
            "pinned-domain-subject-public-key-info");
        string Required(string name) =>
            YangInput.String(voucher, name) ?? throw new SztpException(SztpError.Malformed, $"the voucher has no {name}");
        var assertion = Required("assertion") switch
        {
            "verified" => VoucherAssertion.Verified,
            "logged" => VoucherAssertion.Logged,
            "proximity" => VoucherAssertion.Proximity,
            var other => throw new SztpException(SztpError.UnknownNode, $"unknown assertion '{YangInput.Truncate(other)}'"),
        };
        var expires = YangInput.String(voucher, "expires-on");
        if (expires is not null && voucher.TryGetProperty("nonce", out _))
            throw new SztpException(SztpError.Malformed, NonceOrExpiry);
        return new OwnershipVoucher(ParseDateAndTime(Required("created-on"), "created-on"),
            expires is null ? null : ParseDateAndTime(expires, "expires-on"), assertion, Required("serial-number"),
            YangInput.Base64(Required("pinned-domain-cert"), "pinned-domain-cert")!, YangInput.Binary(voucher, "nonce"));
    }

    /// <summary>RFC 8366 §5.3: the voucher in a SignedData with eContentType id-ct-animaJSONVoucher.</summary>
    public byte[] Sign(X509Certificate2 manufacturerVoucherKey, IEnumerable<X509Certificate2>? chain = null,
        RSASignaturePadding? rsaPadding = null) =>
        SztpCms.Sign(SztpOids.AnimaJsonVoucher, ToJson(), manufacturerVoucherKey, chain, rsaPadding);

    /// <summary>
    /// What a device does with a voucher (RFC 8572 §5.4 steps for signed data): the signature verifies against a
    /// trusted manufacturer certificate (or chains to it), the eContentType is id-ct-animaJSONVoucher, the serial is
    /// this device's, it has not expired, the nonce (if the device sent one) matches, and the owner certificate
    /// (from its certificates-only CMS) chains to pinned-domain-cert. Returns the voucher and the owner certificate,
    /// which the device then uses to verify the signed conveyed information.
    /// </summary>
    public static VerifiedVoucher Verify(ReadOnlyMemory<byte> voucherCms, X509Certificate2Collection trustedManufacturer,
        string serialNumber, ReadOnlyMemory<byte> ownerCertificateCms, DateTimeOffset at, byte[]? expectedNonce = null)
    {
        var content = SztpCms.VerifySigned(voucherCms, [SztpOids.AnimaJsonVoucher], trustedManufacturer, at);
        var voucher = FromJson(content.Content);
        if (!string.Equals(voucher.SerialNumber, serialNumber, StringComparison.Ordinal))
            throw new SztpException(SztpError.VoucherMismatch,
                $"the voucher is for serial '{YangInput.Truncate(voucher.SerialNumber)}', not '{YangInput.Truncate(serialNumber)}'");
        if (voucher.ExpiresOn is { } expires && at > expires)
            throw new SztpException(SztpError.VoucherMismatch, $"the voucher expired at {DateAndTime(expires)}");
        if (expectedNonce is not null && (voucher.Nonce is null || !CryptographicOperations.FixedTimeEquals(voucher.Nonce, expectedNonce)))
            throw new SztpException(SztpError.VoucherMismatch, "the voucher's nonce is not the one the device sent");
        X509Certificate2 pinned;
        try
        {
            pinned = X509CertificateLoader.LoadCertificate(voucher.PinnedDomainCert);
        }
        catch (CryptographicException e)
        {
            throw new SztpException(SztpError.Malformed, "pinned-domain-cert is not an X.509 certificate", e);
        }
        var certificates = SztpCms.DecodeCertificatesOnly(ownerCertificateCms);
        var owner = SztpCms.EndEntity(certificates);
        if (!SztpCms.Chains(owner, [pinned], certificates, at))
            throw new SztpException(SztpError.UntrustedSigner, $"the owner certificate '{owner.Subject}' does not chain to pinned-domain-cert");
        return new VerifiedVoucher(voucher, owner);
    }

    // yang:date-and-time (RFC 6991) in UTC, second precision.
    private static string DateAndTime(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseDateAndTime(string text, string name) =>
        text.Contains('T', StringComparison.Ordinal) &&
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value)
            ? value : throw new SztpException(SztpError.Malformed, $"{name} is not a yang:date-and-time");
}

/// <summary>A voucher that verified, and the owner certificate it vouches for.</summary>
public sealed record VerifiedVoucher(OwnershipVoucher Voucher, X509Certificate2 OwnerCertificate);
