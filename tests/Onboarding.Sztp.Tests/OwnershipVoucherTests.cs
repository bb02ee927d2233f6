using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Onboarding.Sztp.Tests;

public class OwnershipVoucherTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private sealed class Parties : IDisposable
    {
        public X509Certificate2 ManufacturerCa { get; } = TestPki.Ca("manufacturer voucher CA", ecdsa: true);
        public X509Certificate2 OwnerCa { get; } = TestPki.Ca("owner CA");
        public X509Certificate2 VoucherKey { get; }
        public X509Certificate2 Owner { get; }

        public Parties()
        {
            VoucherKey = TestPki.Issue(ManufacturerCa, "voucher signer", ecdsa: true);
            Owner = TestPki.Issue(OwnerCa, "owner");
        }

        public byte[] Voucher(string serial, X509Certificate2 pinned, byte[]? nonce = null, DateTimeOffset? expires = null) =>
            new OwnershipVoucher(Now.AddMinutes(-1), nonce is null ? expires ?? Now.AddDays(30) : expires, VoucherAssertion.Verified, serial, pinned.RawData, nonce).Sign(VoucherKey);

        public byte[] OwnerCms => SztpCms.EncodeCertificatesOnly([Owner]);

        public void Dispose()
        {
            ManufacturerCa.Dispose();
            OwnerCa.Dispose();
            VoucherKey.Dispose();
            Owner.Dispose();
        }
    }

    [Fact]
    public void Voucher_json_is_rfc_8366_with_the_module_prefix()
    {
        var voucher = new OwnershipVoucher(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero), null, VoucherAssertion.Verified, "SN1", [1, 2]);

        Assert.Equal("""{"ietf-voucher:voucher":{"created-on":"2026-01-02T03:04:05Z","assertion":"verified","serial-number":"SN1","pinned-domain-cert":"AQI="}}""",
            Encoding.UTF8.GetString(voucher.ToJson()));
        Assert.Equal("SN1", OwnershipVoucher.FromJson(voucher.ToJson()).SerialNumber);
    }

    [Fact]
    public void A_voucher_for_this_device_pinning_the_owner_ca_verifies_and_yields_the_owner_certificate()
    {
        using var p = new Parties();
        var nonce = new byte[] { 9, 8, 7 };

        var verified = OwnershipVoucher.Verify(p.Voucher("FCW2129G02U", p.OwnerCa, nonce), [p.ManufacturerCa], "FCW2129G02U", p.OwnerCms, Now, nonce);

        Assert.Equal(p.Owner.Thumbprint, verified.OwnerCertificate.Thumbprint);
        Assert.Equal(VoucherAssertion.Verified, verified.Voucher.Assertion);
    }

    [Fact]
    public void A_voucher_for_another_serial_is_refused()
    {
        using var p = new Parties();
        var error = Assert.Throws<SztpException>(() =>
            OwnershipVoucher.Verify(p.Voucher("OTHER", p.OwnerCa), [p.ManufacturerCa], "FCW2129G02U", p.OwnerCms, Now));
        Assert.Equal(SztpError.VoucherMismatch, error.Error);
    }

    [Fact]
    public void An_expired_voucher_or_a_wrong_nonce_is_refused()
    {
        using var p = new Parties();
        Assert.Equal(SztpError.VoucherMismatch, Assert.Throws<SztpException>(() =>
            OwnershipVoucher.Verify(p.Voucher("SN", p.OwnerCa, expires: Now.AddMinutes(-1)), [p.ManufacturerCa], "SN", p.OwnerCms, Now)).Error);
        Assert.Equal(SztpError.VoucherMismatch, Assert.Throws<SztpException>(() =>
            OwnershipVoucher.Verify(p.Voucher("SN", p.OwnerCa, nonce: [1]), [p.ManufacturerCa], "SN", p.OwnerCms, Now, [2])).Error);
    }

    [Fact]
    public void An_owner_certificate_that_does_not_chain_to_pinned_domain_cert_is_refused()
    {
        using var p = new Parties();
        using var otherCa = TestPki.Ca("another owner");
        var error = Assert.Throws<SztpException>(() =>
            OwnershipVoucher.Verify(p.Voucher("SN", otherCa), [p.ManufacturerCa], "SN", p.OwnerCms, Now));
        Assert.Equal(SztpError.UntrustedSigner, error.Error);
    }

    [Fact]
    public void A_voucher_signed_by_another_manufacturer_is_refused()
    {
        using var p = new Parties();
        using var otherManufacturer = TestPki.Ca("another manufacturer", ecdsa: true);
        var error = Assert.Throws<SztpException>(() =>
            OwnershipVoucher.Verify(p.Voucher("SN", p.OwnerCa), [otherManufacturer], "SN", p.OwnerCms, Now));
        Assert.Equal(SztpError.UntrustedSigner, error.Error);
    }

    [Fact]
    public void Conveyed_information_signed_as_a_voucher_is_refused_as_a_voucher()
    {
        using var p = new Parties();
        var notVoucher = SztpCms.Sign(SztpOids.ConveyedInfoJson, "{}"u8.ToArray(), p.VoucherKey);
        var error = Assert.Throws<SztpException>(() =>
            OwnershipVoucher.Verify(notVoucher, [p.ManufacturerCa], "SN", p.OwnerCms, Now));
        Assert.Equal(SztpError.WrongContentType, error.Error);
    }
}
