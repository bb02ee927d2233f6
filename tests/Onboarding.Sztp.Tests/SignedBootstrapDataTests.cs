using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Onboarding.Sztp.Tests;

/// <summary>
/// The device's chain of trust for signed bootstrapping data (RFC 8572 §5.4): manufacturer voucher root → voucher →
/// pinned owner certificate → signature on the conveyed information. Each link, broken, is refused with its error.
/// </summary>
public class SignedBootstrapDataTests
{
    private const string Serial = "FCW2129G02U";
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private static readonly byte[] Redirect = ConveyedInformationCodec.Encode(
        new RedirectInformation([new BootstrapServer("nms.example", 8443)]), SztpEncoding.Json);

    /// <summary>A manufacturer (voucher root + signing certificate, RSA PKCS#1 v1.5 as in production) and an owner (NMS root + owner certificate).</summary>
    private sealed class Parties : IDisposable
    {
        public Parties()
        {
            VoucherRoot = TestPki.Ca("manufacturer voucher root");
            VoucherSigner = TestPki.Issue(VoucherRoot, "voucher signing");
            OwnerRoot = TestPki.Ca("NMS root");
            Owner = TestPki.Issue(OwnerRoot, "NMS owner");
        }

        public X509Certificate2 VoucherRoot { get; }
        public X509Certificate2 VoucherSigner { get; }
        public X509Certificate2 OwnerRoot { get; }
        public X509Certificate2 Owner { get; }

        public byte[] OwnerCms => SztpCms.EncodeCertificatesOnly([Public(Owner), Public(OwnerRoot)]);

        public byte[] Conveyed(X509Certificate2? signer = null) =>
            SztpCms.SignConveyedInformation(SztpEncoding.Json, Redirect, signer ?? Owner, RSASignaturePadding.Pkcs1);

        public byte[] Voucher(string serial = Serial, byte[]? nonce = null, DateTimeOffset? expires = null, X509Certificate2? signer = null,
            X509Certificate2? pinned = null) =>
            new OwnershipVoucher(Now.AddSeconds(-5), nonce is null ? expires ?? Now.AddDays(14) : null, VoucherAssertion.Verified, serial,
                (pinned ?? Owner).RawData, nonce).Sign(signer ?? VoucherSigner, [Public(VoucherRoot)], RSASignaturePadding.Pkcs1);

        public GetBootstrappingDataOutput Output(byte[]? conveyed = null, byte[]? voucher = null, byte[]? ownerCms = null) =>
            new(conveyed ?? Conveyed(), ownerCms ?? OwnerCms, voucher ?? Voucher());

        public VerifiedBootstrapData Verify(GetBootstrappingDataOutput output, byte[]? nonce = null, string serial = Serial, DateTimeOffset? at = null) =>
            SignedBootstrapData.Verify(output, [Public(VoucherRoot)], serial, nonce, at ?? Now);

        public void Dispose()
        {
            VoucherRoot.Dispose();
            VoucherSigner.Dispose();
            OwnerRoot.Dispose();
            Owner.Dispose();
        }

        private static X509Certificate2 Public(X509Certificate2 certificate) => X509CertificateLoader.LoadCertificate(certificate.RawData);
    }

    private static SztpError Refused(Action verify) => Assert.Throws<SztpException>(verify).Error;

    [Fact]
    public void A_good_chain_yields_the_conveyed_information_the_voucher_and_the_owner_certificate()
    {
        using var p = new Parties();

        var verified = p.Verify(p.Output());

        Assert.Equal(Redirect, verified.ConveyedInformation);
        Assert.Equal(SztpEncoding.Json, verified.Encoding);
        Assert.Equal(Serial, verified.Voucher.SerialNumber);
        Assert.Equal(p.Owner.RawData, verified.OwnerCertificate.RawData);
        Assert.IsType<RedirectInformation>(ConveyedInformationCodec.Decode(verified.ConveyedInformation, verified.Encoding));
    }

    [Fact]
    public void A_good_chain_with_the_nonce_the_device_sent_verifies()
    {
        using var p = new Parties();
        var nonce = RandomNumberGenerator.GetBytes(16);

        var verified = p.Verify(p.Output(voucher: p.Voucher(nonce: nonce)), nonce);

        Assert.Equal(nonce, verified.Voucher.Nonce);
        Assert.Null(verified.Voucher.ExpiresOn);
    }

    [Fact]
    public void Xml_conveyed_information_verifies_with_its_own_content_type()
    {
        using var p = new Parties();
        var xml = ConveyedInformationCodec.Encode(new RedirectInformation([new BootstrapServer("nms.example")]), SztpEncoding.Xml);
        var conveyed = SztpCms.SignConveyedInformation(SztpEncoding.Xml, xml, p.Owner, RSASignaturePadding.Pkcs1);

        var verified = p.Verify(p.Output(conveyed: conveyed));

        Assert.Equal(SztpEncoding.Xml, verified.Encoding);
        Assert.Equal(xml, verified.ConveyedInformation);
    }

    [Fact]
    public void A_voucher_for_another_serial_is_refused()
    {
        using var p = new Parties();
        Assert.Equal(SztpError.VoucherMismatch, Refused(() => p.Verify(p.Output(voucher: p.Voucher(serial: "FCW0000OTHER")))));
        // The same voucher is fine for the device it names, so the refusal is about the serial alone.
        Assert.Equal("FCW0000OTHER", p.Verify(p.Output(voucher: p.Voucher(serial: "FCW0000OTHER")), serial: "FCW0000OTHER").Voucher.SerialNumber);
    }

    [Fact]
    public void A_wrong_or_missing_nonce_is_refused()
    {
        using var p = new Parties();
        var sent = RandomNumberGenerator.GetBytes(16);
        Assert.Equal(SztpError.VoucherMismatch, Refused(() => p.Verify(p.Output(voucher: p.Voucher(nonce: RandomNumberGenerator.GetBytes(16))), sent)));
        // A replayed expiring voucher (no nonce) does not satisfy a device that sent one.
        Assert.Equal(SztpError.VoucherMismatch, Refused(() => p.Verify(p.Output(), sent)));
    }

    [Fact]
    public void An_expired_voucher_is_refused()
    {
        using var p = new Parties();
        var output = p.Output(voucher: p.Voucher(expires: Now.AddDays(1)));
        Assert.Equal(SztpError.VoucherMismatch, Refused(() => p.Verify(output, at: Now.AddDays(1).AddMinutes(1))));
        Assert.Equal(Serial, p.Verify(output, at: Now.AddHours(23)).Voucher.SerialNumber);
    }

    [Fact]
    public void A_voucher_signed_by_another_manufacturer_is_refused()
    {
        using var p = new Parties();
        using var otherRoot = TestPki.Ca("another manufacturer's voucher root");
        using var otherSigner = TestPki.Issue(otherRoot, "another manufacturer's voucher signing");

        Assert.Equal(SztpError.UntrustedSigner, Refused(() => p.Verify(p.Output(voucher: p.Voucher(signer: otherSigner)))));
        // The genuine answer is refused by a device of another manufacturer, which trusts only its own root.
        Assert.Equal(SztpError.UntrustedSigner, Refused(() => SignedBootstrapData.Verify(p.Output(), [otherRoot], Serial, null, Now)));
    }

    [Fact]
    public void Conveyed_information_signed_by_another_owner_is_refused()
    {
        using var p = new Parties();
        using var otherRoot = TestPki.Ca("another NMS root");
        using var otherOwner = TestPki.Issue(otherRoot, "another NMS owner");
        // Even a sibling certificate under the same NMS root is not the owner certificate the voucher pins.
        using var sibling = TestPki.Issue(p.OwnerRoot, "NMS owner's sibling");

        Assert.Equal(SztpError.UntrustedSigner, Refused(() => p.Verify(p.Output(conveyed: p.Conveyed(otherOwner)))));
        Assert.Equal(SztpError.UntrustedSigner, Refused(() => p.Verify(p.Output(conveyed: p.Conveyed(sibling)))));
    }

    [Fact]
    public void A_voucher_pinning_another_owner_is_refused()
    {
        using var p = new Parties();
        using var otherRoot = TestPki.Ca("another NMS root");
        using var otherOwner = TestPki.Issue(otherRoot, "another NMS owner");

        Assert.Equal(SztpError.UntrustedSigner, Refused(() => p.Verify(p.Output(voucher: p.Voucher(pinned: otherOwner)))));
    }

    [Theory]
    [InlineData("conveyed")]
    [InlineData("voucher")]
    public void Tampered_bytes_are_refused(string which)
    {
        using var p = new Parties();
        var output = p.Output();
        var bytes = which == "conveyed" ? output.ConveyedInformation : output.OwnershipVoucher!;
        // Flip one byte of the signed content (not the DER framing): the content is the run of the document itself.
        var marker = which == "conveyed" ? "nms.example"u8.ToArray() : System.Text.Encoding.UTF8.GetBytes(Serial);
        var at = bytes.AsSpan().IndexOf(marker);
        Assert.True(at > 0);
        var tampered = (byte[])bytes.Clone();
        tampered[at] ^= 0x01;

        var tamperedOutput = which == "conveyed" ? output with { ConveyedInformation = tampered } : output with { OwnershipVoucher = tampered };
        Assert.Equal(SztpError.BadSignature, Refused(() => p.Verify(tamperedOutput)));
    }

    [Fact]
    public void Tampering_anywhere_is_refused_and_never_throws_anything_but_an_sztp_exception()
    {
        using var p = new Parties();
        var output = p.Output();
        var random = new Random(8572);
        foreach (var field in new[] { 0, 1, 2 })
        {
            for (var i = 0; i < 40; i++)
            {
                var original = field switch { 0 => output.ConveyedInformation, 1 => output.OwnerCertificate!, _ => output.OwnershipVoucher! };
                var tampered = (byte[])original.Clone();
                tampered[random.Next(tampered.Length)] ^= (byte)(1 << random.Next(8));
                var changed = field switch
                {
                    0 => output with { ConveyedInformation = tampered },
                    1 => output with { OwnerCertificate = tampered },
                    _ => output with { OwnershipVoucher = tampered },
                };
                try
                {
                    // A flip in an unsigned part (say the voucher's extra copy of the root, which chain building does
                    // not need) may leave the chain intact; what the device acts on must then be exactly the original.
                    var verified = p.Verify(changed);
                    Assert.Equal(Redirect, verified.ConveyedInformation);
                    Assert.Equal(Serial, verified.Voucher.SerialNumber);
                    Assert.Equal(p.Owner.RawData, verified.OwnerCertificate.RawData);
                }
                catch (SztpException)
                {
                }
            }
        }
    }

    [Fact]
    public void Unsigned_output_is_refused_as_not_signed_data()
    {
        using var p = new Parties();
        var unsigned = new GetBootstrappingDataOutput(SztpCms.EncodeUnsigned(SztpEncoding.Json, Redirect));
        Assert.Equal(SztpError.Malformed, Refused(() => p.Verify(unsigned)));
        // Unsigned conveyed information next to a good voucher: the conveyed information must be SignedData.
        Assert.Equal(SztpError.WrongContentType, Refused(() => p.Verify(p.Output(conveyed: SztpCms.EncodeUnsigned(SztpEncoding.Json, Redirect)))));
    }

    [Fact]
    public void A_voucher_in_place_of_the_conveyed_information_is_refused_by_content_type()
    {
        using var p = new Parties();
        Assert.Equal(SztpError.WrongContentType, Refused(() => p.Verify(p.Output(conveyed: p.Voucher()))));
    }
}
