using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Onboarding.Sztp.Tests;

public class SztpCmsTests
{
    private static readonly byte[] Content = ConveyedInformationCodec.Encode(
        new RedirectInformation([new BootstrapServer("nms.example", 8443)]), SztpEncoding.Json);

    [Theory]
    [InlineData(SztpEncoding.Json, SztpOids.ConveyedInfoJson)]
    [InlineData(SztpEncoding.Xml, SztpOids.ConveyedInfoXml)]
    public void Unsigned_conveyed_information_round_trips_with_its_content_type(SztpEncoding encoding, string oid)
    {
        var decoded = SztpCms.DecodeUnsigned(SztpCms.EncodeUnsigned(encoding, Content));

        Assert.Equal(oid, decoded.ContentType);
        Assert.Equal(Content, decoded.Content);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Signed_conveyed_information_verifies_against_the_owner_certificate(bool ecdsa)
    {
        using var ca = TestPki.Ca("owner CA", ecdsa);
        using var owner = TestPki.Issue(ca, "owner", ecdsa);

        var cms = SztpCms.SignConveyedInformation(SztpEncoding.Json, Content, owner);
        var verified = SztpCms.VerifySigned(cms, [SztpOids.ConveyedInfoJson], [ca], DateTimeOffset.UtcNow);

        Assert.Equal(Content, verified.Content);
        Assert.Equal(SztpOids.ConveyedInfoJson, verified.ContentType);
        Assert.Equal(owner.Thumbprint, verified.Signer.Thumbprint);
    }

    [Fact]
    public void An_rsa_signer_signs_with_pkcs1_v1_5_not_pss()
    {
        using var ca = TestPki.Ca("owner CA");
        using var owner = TestPki.Issue(ca, "owner");

        var signed = new System.Security.Cryptography.Pkcs.SignedCms();
        signed.Decode(SztpCms.SignConveyedInformation(SztpEncoding.Json, Content, owner));

        // rsaEncryption (PKCS#1 v1.5), not id-RSASSA-PSS 1.2.840.113549.1.1.10: strict devices cannot verify PSS.
        Assert.Equal("1.2.840.113549.1.1.1", signed.SignerInfos[0].SignatureAlgorithm.Value);
    }

    [Fact]
    public void A_tampered_content_is_a_bad_signature()
    {
        using var ca = TestPki.Ca("owner CA");
        using var owner = TestPki.Issue(ca, "owner");
        var cms = SztpCms.SignConveyedInformation(SztpEncoding.Json, Content, owner);
        var at = cms.AsSpan().IndexOf("nms.example"u8);
        cms[at] = (byte)'N';

        var error = Assert.Throws<SztpException>(() => SztpCms.VerifySigned(cms, [SztpOids.ConveyedInfoJson], [ca], DateTimeOffset.UtcNow));
        Assert.Equal(SztpError.BadSignature, error.Error);
    }

    [Fact]
    public void A_signature_by_an_untrusted_key_is_refused()
    {
        using var ca = TestPki.Ca("owner CA");
        using var other = TestPki.Ca("someone else");
        using var owner = TestPki.Issue(other, "owner");
        var cms = SztpCms.SignConveyedInformation(SztpEncoding.Json, Content, owner);

        var error = Assert.Throws<SztpException>(() => SztpCms.VerifySigned(cms, [SztpOids.ConveyedInfoJson], [ca], DateTimeOffset.UtcNow));
        Assert.Equal(SztpError.UntrustedSigner, error.Error);
    }

    [Fact]
    public void A_wrong_econtenttype_is_refused()
    {
        using var ca = TestPki.Ca("owner CA");
        using var owner = TestPki.Issue(ca, "owner");
        var cms = SztpCms.Sign(SztpOids.AnimaJsonVoucher, Content, owner);

        var error = Assert.Throws<SztpException>(() => SztpCms.VerifySigned(cms, [SztpOids.ConveyedInfoJson], [ca], DateTimeOffset.UtcNow));
        Assert.Equal(SztpError.WrongContentType, error.Error);
    }

    [Fact]
    public void Signed_data_is_not_read_as_unsigned_and_unsigned_is_not_read_as_signed()
    {
        using var ca = TestPki.Ca("owner CA");
        using var owner = TestPki.Issue(ca, "owner");
        var signed = SztpCms.SignConveyedInformation(SztpEncoding.Json, Content, owner);
        var unsigned = SztpCms.EncodeUnsigned(SztpEncoding.Json, Content);

        Assert.Equal(SztpError.WrongContentType, Assert.Throws<SztpException>(() => SztpCms.DecodeUnsigned(signed)).Error);
        Assert.Equal(SztpError.WrongContentType,
            Assert.Throws<SztpException>(() => SztpCms.VerifySigned(unsigned, [SztpOids.ConveyedInfoJson], [ca], DateTimeOffset.UtcNow)).Error);
    }

    [Fact]
    public void Truncated_der_is_malformed_in_every_reader()
    {
        using var ca = TestPki.Ca("owner CA");
        using var owner = TestPki.Issue(ca, "owner");
        var signed = SztpCms.SignConveyedInformation(SztpEncoding.Json, Content, owner);
        var unsigned = SztpCms.EncodeUnsigned(SztpEncoding.Json, Content);
        var certsOnly = SztpCms.EncodeCertificatesOnly([owner]);

        foreach (var cut in new[] { 1, 2, 10, unsigned.Length / 2, unsigned.Length - 1 })
            Assert.Equal(SztpError.Malformed, Assert.Throws<SztpException>(() => SztpCms.DecodeUnsigned(unsigned.AsMemory(0, cut))).Error);
        foreach (var cut in new[] { 1, 2, 10, signed.Length / 2, signed.Length - 1 })
            Assert.Equal(SztpError.Malformed,
                Assert.Throws<SztpException>(() => SztpCms.VerifySigned(signed.AsMemory(0, cut), [SztpOids.ConveyedInfoJson], [ca], DateTimeOffset.UtcNow)).Error);
        Assert.Equal(SztpError.Malformed, Assert.Throws<SztpException>(() => SztpCms.DecodeCertificatesOnly(certsOnly.AsMemory(0, 40))).Error);
    }

    [Fact]
    public void Certificates_only_cms_carries_every_certificate()
    {
        using var ca = TestPki.Ca("owner CA");
        using var owner = TestPki.Issue(ca, "owner");

        var certificates = SztpCms.DecodeCertificatesOnly(SztpCms.EncodeCertificatesOnly([owner, ca]));

        Assert.Equal(new[] { ca.Thumbprint, owner.Thumbprint }.Order(), certificates.Select(c => c.Thumbprint).Order());
    }

    [Fact]
    public void A_signed_message_is_not_accepted_as_certificates_only()
    {
        using var ca = TestPki.Ca("owner CA");
        using var owner = TestPki.Issue(ca, "owner");
        var signed = SztpCms.SignConveyedInformation(SztpEncoding.Json, Content, owner);

        Assert.Equal(SztpError.Malformed, Assert.Throws<SztpException>(() => SztpCms.DecodeCertificatesOnly(signed)).Error);
    }

    [Fact]
    public void An_expired_signer_is_untrusted()
    {
        using var ca = TestPki.Ca("owner CA");
        using var owner = TestPki.Issue(ca, "owner");
        var cms = SztpCms.SignConveyedInformation(SztpEncoding.Xml, Encoding.UTF8.GetBytes("<x/>"), owner);

        var error = Assert.Throws<SztpException>(() =>
            SztpCms.VerifySigned(cms, [SztpOids.ConveyedInfoXml], [ca], DateTimeOffset.UtcNow.AddYears(3)));
        Assert.Equal(SztpError.UntrustedSigner, error.Error);
    }
}
