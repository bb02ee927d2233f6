using System.Text;

namespace Onboarding.Sztp.Tests;

public class BootstrapServerRpcTests
{
    [Fact]
    public void Get_bootstrapping_data_input_json_is_read()
    {
        var body = """{"ietf-sztp-bootstrap-server:input":{"signed-data-preferred":[null],"hw-model":"C9300","os-name":"IOS-XE","os-version":"17.18","nonce":"AQID","ietf-sztp-csr:csr-support":{}}}"""u8.ToArray();

        var input = BootstrapServerRpc.ParseGetBootstrappingDataInput(body, SztpEncoding.Json);

        Assert.Equal(new GetBootstrappingDataInput(true, "C9300", "IOS-XE", "17.18", input.Nonce), input);
        Assert.Equal([1, 2, 3], input.Nonce);
    }

    [Fact]
    public void Get_bootstrapping_data_input_xml_is_read_and_an_empty_body_means_no_input()
    {
        var body = """<input xmlns="urn:ietf:params:xml:ns:yang:ietf-sztp-bootstrap-server"><signed-data-preferred/><hw-model>MX</hw-model></input>"""u8.ToArray();

        var input = BootstrapServerRpc.ParseGetBootstrappingDataInput(body, SztpEncoding.Xml);

        Assert.True(input.SignedDataPreferred);
        Assert.Equal("MX", input.HwModel);
        Assert.False(BootstrapServerRpc.ParseGetBootstrappingDataInput(ReadOnlyMemory<byte>.Empty, SztpEncoding.Json).SignedDataPreferred);
    }

    [Theory]
    [InlineData("""{"ietf-sztp-bootstrap-server:input":{"signed-data-preferred":true}}""", SztpError.Malformed)]
    [InlineData("""{"ietf-sztp-bootstrap-server:input":{"hw-model":5}}""", SztpError.Malformed)]
    [InlineData("""{"ietf-sztp-bootstrap-server:input":{"serial":"x"}}""", SztpError.UnknownNode)]
    [InlineData("""{"ietf-sztp-bootstrap-server:input":{"nonce":"not base64!"}}""", SztpError.Malformed)]
    [InlineData("""[1,2]""", SztpError.Malformed)]
    public void Bad_get_bootstrapping_data_input_gets_a_typed_error(string body, SztpError expected) =>
        Assert.Equal(expected, Assert.Throws<SztpException>(() =>
            BootstrapServerRpc.ParseGetBootstrappingDataInput(Encoding.UTF8.GetBytes(body), SztpEncoding.Json)).Error);

    [Fact]
    public void Every_progress_type_of_rfc_8572_is_read_in_json_and_xml()
    {
        string[] names = ["bootstrap-initiated", "parsing-initiated", "parsing-warning", "parsing-error", "parsing-complete",
            "boot-image-initiated", "boot-image-warning", "boot-image-error", "boot-image-mismatch", "boot-image-installed-rebooting",
            "boot-image-complete", "pre-script-initiated", "pre-script-warning", "pre-script-error", "pre-script-complete",
            "config-initiated", "config-warning", "config-error", "config-complete", "post-script-initiated", "post-script-warning",
            "post-script-error", "post-script-complete", "bootstrap-warning", "bootstrap-error", "bootstrap-complete", "informational"];
        var seen = new HashSet<ProgressType>();
        foreach (var name in names)
        {
            var json = BootstrapServerRpc.ParseReportProgressInput(
                Encoding.UTF8.GetBytes("{\"ietf-sztp-bootstrap-server:input\":{\"progress-type\":\"" + name + "\"}}"), SztpEncoding.Json);
            var xml = BootstrapServerRpc.ParseReportProgressInput(Encoding.UTF8.GetBytes(
                $"""<input xmlns="urn:ietf:params:xml:ns:yang:ietf-sztp-bootstrap-server"><progress-type>{name}</progress-type></input>"""), SztpEncoding.Xml);
            Assert.Equal(json.ProgressType, xml.ProgressType);
            Assert.Equal(name, ProgressTypes.Name(json.ProgressType));
            seen.Add(json.ProgressType);
        }
        Assert.Equal(Enum.GetValues<ProgressType>().Length, seen.Count);
    }

    [Theory]
    [InlineData(SztpEncoding.Json, """{"ietf-sztp-bootstrap-server:input":{"progress-type":"bootstrap-complete","message":"done","ssh-host-keys":{"ssh-host-key":[{"algorithm":"ssh-ed25519","key-data":"AAEC"}]},"trust-anchor-certs":{"trust-anchor-cert":["MAA="]}}}""")]
    [InlineData(SztpEncoding.Xml, """<input xmlns="urn:ietf:params:xml:ns:yang:ietf-sztp-bootstrap-server"><progress-type>bootstrap-complete</progress-type><message>done</message><ssh-host-keys><ssh-host-key><algorithm>ssh-ed25519</algorithm><key-data>AAEC</key-data></ssh-host-key></ssh-host-keys><trust-anchor-certs><trust-anchor-cert>MAA=</trust-anchor-cert></trust-anchor-certs></input>""")]
    public void Bootstrap_complete_carries_the_host_keys_and_trust_anchors(SztpEncoding encoding, string body)
    {
        var report = BootstrapServerRpc.ParseReportProgressInput(Encoding.UTF8.GetBytes(body), encoding);

        Assert.Equal(ProgressType.BootstrapComplete, report.ProgressType);
        Assert.Equal("done", report.Message);
        var key = Assert.Single(report.SshHostKeys!);
        Assert.Equal("ssh-ed25519", key.Algorithm);
        Assert.Equal([0, 1, 2], key.KeyData);
        Assert.Equal([0x30, 0x00], Assert.Single(report.TrustAnchorCerts!));
    }

    [Theory]
    [InlineData("""{"ietf-sztp-bootstrap-server:input":{"progress-type":"rebooting"}}""", SztpError.UnknownNode)]
    [InlineData("""{"ietf-sztp-bootstrap-server:input":{"message":"no type"}}""", SztpError.Malformed)]
    [InlineData("""{"ietf-sztp-bootstrap-server:input":{"progress-type":"informational","ssh-host-keys":{"ssh-host-key":[{"algorithm":"x"}]}}}""", SztpError.Malformed)]
    public void Bad_report_progress_input_gets_a_typed_error(string body, SztpError expected) =>
        Assert.Equal(expected, Assert.Throws<SztpException>(() =>
            BootstrapServerRpc.ParseReportProgressInput(Encoding.UTF8.GetBytes(body), SztpEncoding.Json)).Error);

    [Fact]
    public void Output_is_written_with_base64_leaves_in_json_and_xml_and_reads_back()
    {
        var output = new GetBootstrappingDataOutput([1], [2], [3]);

        var json = BootstrapServerRpc.WriteGetBootstrappingDataOutput(output, SztpEncoding.Json);
        var xml = BootstrapServerRpc.WriteGetBootstrappingDataOutput(output, SztpEncoding.Xml);

        Assert.Equal("""{"ietf-sztp-bootstrap-server:output":{"conveyed-information":"AQ==","owner-certificate":"Ag==","ownership-voucher":"Aw=="}}""", Encoding.UTF8.GetString(json));
        Assert.Equal("""<output xmlns="urn:ietf:params:xml:ns:yang:ietf-sztp-bootstrap-server"><conveyed-information>AQ==</conveyed-information><owner-certificate>Ag==</owner-certificate><ownership-voucher>Aw==</ownership-voucher></output>""", Encoding.UTF8.GetString(xml));
        Assert.Equal([3], BootstrapServerRpc.ParseGetBootstrappingDataOutput(xml, SztpEncoding.Xml).OwnershipVoucher);
        Assert.Throws<ArgumentException>(() => BootstrapServerRpc.WriteGetBootstrappingDataOutput(new GetBootstrappingDataOutput([1], [2]), SztpEncoding.Json));
    }

    [Fact]
    public void Restconf_errors_envelope_in_json_and_xml()
    {
        RestconfError[] errors = [new(RestconfErrorType.Application, "access-denied", "unknown device")];

        Assert.Equal("""{"ietf-restconf:errors":{"error":[{"error-type":"application","error-tag":"access-denied","error-message":"unknown device"}]}}""",
            Encoding.UTF8.GetString(RestconfErrors.Write(errors, SztpEncoding.Json)));
        Assert.Equal("""<errors xmlns="urn:ietf:params:xml:ns:yang:ietf-restconf"><error><error-type>application</error-type><error-tag>access-denied</error-tag><error-message>unknown device</error-message></error></errors>""",
            Encoding.UTF8.GetString(RestconfErrors.Write(errors, SztpEncoding.Xml)));
    }
}
