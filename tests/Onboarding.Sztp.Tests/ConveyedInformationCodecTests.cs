using System.Text;

namespace Onboarding.Sztp.Tests;

public class ConveyedInformationCodecTests
{
    private static readonly byte[] Anchor = [0x30, 0x03, 0x02, 0x01, 0x01];

    [Fact]
    public void Redirect_information_json_keeps_the_module_prefix_and_writes_nothing_unset()
    {
        var redirect = new RedirectInformation([new BootstrapServer("nms.example", 8443, Anchor), new BootstrapServer("10.0.0.1")]);

        var json = Encoding.UTF8.GetString(ConveyedInformationCodec.Encode(redirect, SztpEncoding.Json));

        Assert.Equal("""{"ietf-sztp-conveyed-info:redirect-information":{"bootstrap-server":[{"address":"nms.example","port":8443,"trust-anchor":"MAMCAQE="},{"address":"10.0.0.1"}]}}""", json);
    }

    [Fact]
    public void Redirect_information_xml_is_in_the_module_namespace()
    {
        var redirect = new RedirectInformation([new BootstrapServer("nms.example", 443)]);

        var xml = Encoding.UTF8.GetString(ConveyedInformationCodec.Encode(redirect, SztpEncoding.Xml));

        Assert.Equal("""<redirect-information xmlns="urn:ietf:params:xml:ns:yang:ietf-sztp-conveyed-info"><bootstrap-server><address>nms.example</address><port>443</port></bootstrap-server></redirect-information>""", xml);
    }

    [Theory]
    [InlineData(SztpEncoding.Json)]
    [InlineData(SztpEncoding.Xml)]
    public void Onboarding_information_round_trips(SztpEncoding encoding)
    {
        var onboarding = new OnboardingInformation(
            new BootImage("VendorOS", "17.1", ["https://img.example/os.bin"], [new ImageVerification("sha-256", "ab:cd:ef")]),
            ConfigurationHandling.Replace, [1, 2], Encoding.UTF8.GetBytes("<config/>"), [3]);

        var decoded = (OnboardingInformation)ConveyedInformationCodec.Decode(ConveyedInformationCodec.Encode(onboarding, encoding), encoding);

        Assert.Equal("VendorOS", decoded.BootImage!.OsName);
        Assert.Equal("17.1", decoded.BootImage.OsVersion);
        Assert.Equal(["https://img.example/os.bin"], decoded.BootImage.DownloadUris);
        Assert.Equal(new ImageVerification("sha-256", "ab:cd:ef"), decoded.BootImage.ImageVerifications.Single());
        Assert.Equal(ConfigurationHandling.Replace, decoded.ConfigurationHandling);
        Assert.Equal([1, 2], decoded.PreConfigurationScript);
        Assert.Equal("<config/>", Encoding.UTF8.GetString(decoded.Configuration!));
        Assert.Equal([3], decoded.PostConfigurationScript);
    }

    [Fact]
    public void Onboarding_json_writes_the_identityref_with_its_prefix_and_no_nulls()
    {
        var onboarding = new OnboardingInformation(ConfigurationHandling: ConfigurationHandling.Merge, Configuration: [0x41]);

        var json = Encoding.UTF8.GetString(ConveyedInformationCodec.Encode(onboarding, SztpEncoding.Json));

        Assert.Equal("""{"ietf-sztp-conveyed-info:onboarding-information":{"configuration-handling":"merge","configuration":"QQ=="}}""", json);
    }

    [Fact]
    public void Configuration_without_configuration_handling_is_refused_on_both_sides()
    {
        Assert.Throws<ArgumentException>(() =>
            ConveyedInformationCodec.Encode(new OnboardingInformation(Configuration: [1]), SztpEncoding.Json));
        var body = """{"ietf-sztp-conveyed-info:onboarding-information":{"configuration":"QQ=="}}"""u8.ToArray();
        Assert.Equal(SztpError.Malformed, Assert.Throws<SztpException>(() => ConveyedInformationCodec.Decode(body, SztpEncoding.Json)).Error);
    }

    [Theory]
    [InlineData("""{"ietf-sztp-conveyed-info:redirect-information":{"bootstrap-server":[{"address":"a","colour":"red"}]}}""", SztpError.UnknownNode)]
    [InlineData("""{"ietf-sztp-conveyed-info:redirect-information":{"bootstrap-server":[{"address":"a","port":70000}]}}""", SztpError.Malformed)]
    [InlineData("""{"ietf-sztp-conveyed-info:redirect-information":{"bootstrap-server":[{"address":"a","trust-anchor":"%%%"}]}}""", SztpError.Malformed)]
    [InlineData("""{"redirect-information":{"bootstrap-server":[{"address":"a"}]}}""", SztpError.UnknownNode)]
    [InlineData("""{"ietf-sztp-conveyed-info:onboarding-information":{"configuration-handling":"overwrite"}}""", SztpError.UnknownNode)]
    [InlineData("""{"ietf-sztp-conveyed-info:redirect-information":{"bootstrap-server":[]}}""", SztpError.Malformed)]
    [InlineData("""{"ietf-sztp-conveyed-info:redirect-information":""", SztpError.Malformed)]
    public void Bad_json_conveyed_information_gets_a_typed_error(string body, SztpError expected)
    {
        var error = Assert.Throws<SztpException>(() => ConveyedInformationCodec.Decode(Encoding.UTF8.GetBytes(body), SztpEncoding.Json));
        Assert.Equal(expected, error.Error);
    }

    [Theory]
    [InlineData("""<redirect-information xmlns="urn:wrong"><bootstrap-server><address>a</address></bootstrap-server></redirect-information>""", SztpError.UnknownNode)]
    [InlineData("""<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><redirect-information xmlns="urn:ietf:params:xml:ns:yang:ietf-sztp-conveyed-info"/>""", SztpError.Malformed)]
    [InlineData("""<redirect-information xmlns="urn:ietf:params:xml:ns:yang:ietf-sztp-conveyed-info"><bootstrap-server><address>a</address><port>x</port></bootstrap-server></redirect-information>""", SztpError.Malformed)]
    public void Bad_xml_conveyed_information_gets_a_typed_error(string body, SztpError expected)
    {
        var error = Assert.Throws<SztpException>(() => ConveyedInformationCodec.Decode(Encoding.UTF8.GetBytes(body), SztpEncoding.Xml));
        Assert.Equal(expected, error.Error);
    }

    [Fact]
    public void A_body_over_the_limit_is_refused_before_parsing()
    {
        var body = Encoding.UTF8.GetBytes(new string(' ', 2000));
        Assert.Equal(SztpError.TooLarge,
            Assert.Throws<SztpException>(() => ConveyedInformationCodec.Decode(body, SztpEncoding.Json, maxBytes: 1000)).Error);
    }
}
