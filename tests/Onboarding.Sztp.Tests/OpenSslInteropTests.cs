using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;

namespace Onboarding.Sztp.Tests;

/// <summary>Our CMS against Debian's OpenSSL, the library most device firmware verifies CMS with.</summary>
[Trait("Category", "Interop")]
public sealed class OpenSslInteropTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sztp-openssl-").FullName;
    private static readonly byte[] Content = ConveyedInformationCodec.Encode(
        new RedirectInformation([new BootstrapServer("nms.example", 8443)]), SztpEncoding.Json);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Our_signed_conveyed_information_verifies_with_openssl_and_carries_the_json_oid(bool ecdsa)
    {
        using var ca = TestPki.Ca("owner CA", ecdsa);
        using var owner = TestPki.Issue(ca, "owner", ecdsa);
        var cms = Write("conveyed.der", SztpCms.SignConveyedInformation(SztpEncoding.Json, Content, owner));
        var caFile = WritePem("ca.pem", ca);

        var verified = OpenSsl("cms", "-verify", "-binary", "-inform", "DER", "-in", cms, "-CAfile", caFile, "-purpose", "any", "-out", Path.Combine(_dir, "out"));
        Assert.Equal(0, verified.Code);
        Assert.Equal(Content, File.ReadAllBytes(Path.Combine(_dir, "out")));
        var printed = OpenSsl("cms", "-cmsout", "-print", "-inform", "DER", "-in", cms).Output;
        Assert.Contains("eContentType: undefined (1.2.840.113549.1.9.16.1.43)", printed, StringComparison.Ordinal);
    }

    [Fact]
    public void Our_voucher_verifies_with_openssl_and_carries_the_voucher_oid()
    {
        using var ca = TestPki.Ca("manufacturer CA", ecdsa: true);
        using var signer = TestPki.Issue(ca, "voucher signer", ecdsa: true);
        var voucher = new OwnershipVoucher(DateTimeOffset.UtcNow, null, VoucherAssertion.Verified, "SN1", ca.RawData).Sign(signer);
        var file = Write("voucher.der", voucher);

        Assert.Equal(0, OpenSsl("cms", "-verify", "-binary", "-inform", "DER", "-in", file, "-CAfile", WritePem("ca.pem", ca), "-purpose", "any", "-out", Path.Combine(_dir, "v")).Code);
        Assert.Contains("eContentType: undefined (1.2.840.113549.1.9.16.1.40)", OpenSsl("cms", "-cmsout", "-print", "-inform", "DER", "-in", file).Output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tampered_signature_fails_openssl_too()
    {
        using var ca = TestPki.Ca("owner CA");
        using var owner = TestPki.Issue(ca, "owner");
        var bytes = SztpCms.SignConveyedInformation(SztpEncoding.Json, Content, owner);
        bytes[bytes.AsSpan().IndexOf("nms.example"u8)] = (byte)'X';

        Assert.NotEqual(0, OpenSsl("cms", "-verify", "-binary", "-inform", "DER", "-in", Write("bad.der", bytes), "-CAfile", WritePem("ca.pem", ca), "-purpose", "any", "-out", Path.Combine(_dir, "o")).Code);
    }

    [Fact]
    public void Certificates_only_cms_lists_its_certificates_in_openssl()
    {
        using var ca = TestPki.Ca("Owner Root");
        using var owner = TestPki.Issue(ca, "Owner Leaf");

        var printed = OpenSsl("pkcs7", "-print_certs", "-inform", "DER", "-in", Write("certs.der", SztpCms.EncodeCertificatesOnly([owner, ca])));

        Assert.Equal(0, printed.Code);
        Assert.Contains("subject=CN = Owner Leaf", printed.Output, StringComparison.Ordinal);
        Assert.Contains("subject=CN = Owner Root", printed.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Unsigned_conveyed_information_parses_in_openssl_as_content_info_with_an_octet_string()
    {
        var parsed = OpenSsl("asn1parse", "-inform", "DER", "-in", Write("unsigned.der", SztpCms.EncodeUnsigned(SztpEncoding.Xml, "<x/>"u8)));

        Assert.Equal(0, parsed.Code);
        Assert.Contains(":1.2.840.113549.1.9.16.1.42", parsed.Output, StringComparison.Ordinal);
        Assert.Contains("cont [ 0 ]", parsed.Output, StringComparison.Ordinal);
        Assert.Contains("OCTET STRING      :<x/>", parsed.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Signed_data_made_by_openssl_cms_sign_verifies_with_our_parser()
    {
        using var ca = TestPki.Ca("owner CA");
        using var owner = TestPki.Issue(ca, "owner");
        var key = Path.Combine(_dir, "owner.key");
        File.WriteAllText(key, owner.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
        var input = Write("content.json", Content);
        var output = Path.Combine(_dir, "openssl.der");

        var signed = OpenSsl("cms", "-sign", "-binary", "-nodetach", "-outform", "DER", "-econtent_type", SztpOids.ConveyedInfoJson,
            "-signer", WritePem("owner.pem", owner), "-inkey", key, "-in", input, "-out", output);
        Assert.Equal(0, signed.Code);

        var verified = SztpCms.VerifySigned(File.ReadAllBytes(output), [SztpOids.ConveyedInfoJson], [ca], DateTimeOffset.UtcNow);
        Assert.Equal(Content, verified.Content);
    }

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string WritePem(string name, X509Certificate2 certificate)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, certificate.ExportCertificatePem());
        return path;
    }

    private static (int Code, string Output) OpenSsl(params string[] arguments)
    {
        var start = new ProcessStartInfo("/usr/bin/openssl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr);
    }
}
