using System.Xml.Linq;
using Onboarding.Netconf.Messages;
using Onboarding.Provisioning.Templates;

namespace Onboarding.Provisioning.Tests;

public class TemplateRendererTests
{
    private static readonly XNamespace Sys = "urn:ietf:params:xml:ns:yang:ietf-system";
    private readonly TemplateRenderer _renderer = new();

    private static TemplateVariables Device(string serial = "SN-1", string? address = "192.0.2.7") =>
        new(serial, "0193a5c2-7f1e-7c3a-9d2b-5e8f0a1b2c3d", "MX204", "c0000000-0000-0000-0000-000000000001", "Acme Telecom",
            "m0000000-0000-0000-0000-000000000002".Replace('m', 'a'), "Juniper", address);

    [Fact]
    public void Netconf_values_are_xml_escaped_and_stay_one_text_node()
    {
        var body = "<config><system xmlns=\"" + Sys.NamespaceName + "\"><hostname>{{serial}}</hostname><location>{{customer}} at {{address}}</location></system></config>";

        var rendered = _renderer.RenderNetconf(body, Device(serial: "A&B<c/>\"'"));

        Assert.Equal(NetconfXml.Base + "config", rendered.Config.Name);
        var system = Assert.Single(rendered.TopElements);
        Assert.Equal("A&B<c/>\"'", system.Element(Sys + "hostname")!.Value);
        Assert.Empty(system.Element(Sys + "hostname")!.Elements());
        Assert.Equal("Acme Telecom at 192.0.2.7", system.Element(Sys + "location")!.Value);
    }

    [Fact]
    public void One_body_compiled_once_renders_each_device_with_its_own_values_and_each_encoder_its_own_way()
    {
        // The compiled template is cached per body and encoder: the values must still be the device's, and the same body
        // as CLI must not come out XML-escaped (nor as netconf unescaped).
        const string body = "<config><system xmlns=\"urn:ietf:params:xml:ns:yang:ietf-system\"><hostname>{{serial}}</hostname></system></config>";

        var serials = Enumerable.Range(0, 64).AsParallel().Select(i => (i, _renderer.RenderNetconf(body, Device(serial: $"S&{i}")))).ToList();
        var cli = _renderer.RenderCli(body, Device(serial: "S&1"));

        Assert.All(serials, r => Assert.Equal($"S&{r.i}", r.Item2.TopElements[0].Element(Sys + "hostname")!.Value));
        Assert.Equal(["<config><system xmlns=\"urn:ietf:params:xml:ns:yang:ietf-system\"><hostname>S&1</hostname></system></config>"], cli);
        Assert.Throws<TemplateException>(() => _renderer.RenderNetconf(body.Replace("{{serial}}", "{{nope}}"), Device()));
        Assert.Throws<TemplateException>(() => _renderer.RenderNetconf(body.Replace("{{serial}}", "{{nope}}"), Device()));
    }

    [Fact]
    public void Every_variable_is_available()
    {
        var body = string.Join('\n', TemplateVariables.Names.Select(n => $"echo {{{{{n}}}}}"));

        var commands = _renderer.RenderCli(body, Device());

        Assert.Equal(["echo SN-1", "echo 0193a5c2-7f1e-7c3a-9d2b-5e8f0a1b2c3d", "echo MX204", "echo c0000000-0000-0000-0000-000000000001",
            "echo Acme Telecom", "echo a0000000-0000-0000-0000-000000000002", "echo Juniper", "echo 192.0.2.7"], commands);
    }

    [Fact]
    public void An_unknown_variable_is_an_error_naming_it()
    {
        var e = Assert.Throws<TemplateException>(() => _renderer.RenderCli("set system host-name {{hostnme}}", Device()));
        Assert.Contains("unknown variable 'hostnme'", e.Message, StringComparison.Ordinal);
        Assert.Contains("serial", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_address_is_reported_when_the_template_uses_it()
    {
        var e = Assert.Throws<TemplateException>(() => _renderer.RenderCli("echo {{address}}", Device(address: null)));
        Assert.Contains("'address'", e.Message, StringComparison.Ordinal);
        Assert.Equal(["echo SN-1"], _renderer.RenderCli("echo {{serial}}", Device(address: null)));
    }

    [Fact]
    public void Cli_values_may_not_smuggle_in_a_line()
    {
        var e = Assert.Throws<TemplateException>(() => _renderer.RenderCli("echo {{serial}}", Device(serial: "x\nreboot")));
        Assert.Contains("control character", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("reboot", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cli_lines_are_trimmed_and_blank_lines_dropped()
    {
        Assert.Equal(["a SN-1", "b"], _renderer.RenderCli("\r\n  a {{serial}}  \r\n\r\n\tb\n", Device()));
        Assert.Throws<TemplateException>(() => _renderer.RenderCli("{{#if serial}}{{/if}}\n  \n", Device()));
    }

    [Theory]
    [InlineData("<config><system xmlns=\"urn:x\"><a>{{serial}}</a></system>", "not well-formed")]
    [InlineData("<data><system xmlns=\"urn:x\"/></data>", "one <config> element")]
    [InlineData("<config/>", "no data element")]
    [InlineData("<config><system><a>1</a></system></config>", "namespace")]
    [InlineData("<config>text<system xmlns=\"urn:x\"/></config>", "text outside")]
    [InlineData("<config><system xmlns=\"urn:x\">{{{serial}}}</system></config>", "unescaped output")]
    [InlineData("<config><system xmlns=\"urn:x\">{{&serial}}</system></config>", "unescaped output")]
    [InlineData("<config><system xmlns=\"urn:x\">{{#if serial}}</system></config>", "does not compile")]
    [InlineData("<!DOCTYPE config [<!ENTITY x \"y\">]><config><system xmlns=\"urn:x\">&x;</system></config>", "not well-formed")]
    public void Bad_netconf_templates_are_refused_by_validation(string body, string expected)
    {
        var e = Assert.Throws<TemplateException>(() => _renderer.Validate(TemplateKind.Netconf, body));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_config_in_the_base_namespace_or_none_is_accepted_and_sent_in_the_base_namespace()
    {
        var none = _renderer.RenderNetconf($"<config><system xmlns=\"{Sys}\"/></config>", Device());
        var based = _renderer.RenderNetconf($"<nc:config xmlns:nc=\"{NetconfXml.Base}\"><system xmlns=\"{Sys}\"/></nc:config>", Device());
        Assert.Equal(NetconfXml.Base + "config", none.Config.Name);
        Assert.Equal(NetconfXml.Base + "config", based.Config.Name);
        Assert.Equal(Sys + "system", Assert.Single(based.TopElements).Name);
    }

    [Fact]
    public void Validation_uses_sample_values_for_every_variable()
    {
        _renderer.Validate(TemplateKind.Netconf, $"<config><system xmlns=\"{Sys}\"><hostname>{{{{serial}}}}-{{{{address}}}}</hostname></system></config>");
        _renderer.Validate(TemplateKind.Cli, "set hostname {{model}}-{{serial}}");
        Assert.Throws<TemplateException>(() => _renderer.Validate(TemplateKind.Cli, "set hostname {{name}}"));
    }
}
