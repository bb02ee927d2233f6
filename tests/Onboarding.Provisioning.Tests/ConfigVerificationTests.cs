using System.Xml.Linq;
using Onboarding.Netconf.Messages;
using Onboarding.Provisioning.Apply;

namespace Onboarding.Provisioning.Tests;

public class ConfigVerificationTests
{
    private const string If = "urn:ietf:params:xml:ns:yang:ietf-interfaces";

    private static XElement Config(string inner) => XElement.Parse($"<config xmlns=\"{NetconfXml.Base}\">{inner}</config>");

    private static XElement Data(string inner) => XElement.Parse($"<data xmlns=\"{NetconfXml.Base}\">{inner}</data>");

    [Fact]
    public void Present_configuration_with_extra_device_data_and_whitespace_matches()
    {
        var expected = Config($"<interfaces xmlns=\"{If}\"><interface><name>eth1</name><description>uplink</description></interface></interfaces>");
        var actual = Data($"""
            <interfaces xmlns="{If}">
              <interface><name>eth0</name><description>mgmt</description></interface>
              <interface><name>eth1</name><description> uplink </description><enabled>true</enabled></interface>
            </interfaces>
            """);
        Assert.Empty(ConfigVerification.FindDifferences(expected, actual));
    }

    [Fact]
    public void A_different_leaf_is_reported_by_path_without_its_value()
    {
        var expected = Config($"<interfaces xmlns=\"{If}\"><interface><name>eth1</name><description>s3cret-ish</description></interface></interfaces>");
        var actual = Data($"<interfaces xmlns=\"{If}\"><interface><name>eth1</name><description>other</description></interface></interfaces>");
        var difference = Assert.Single(ConfigVerification.FindDifferences(expected, actual));
        Assert.Equal("/interfaces/interface/description (different value)", difference);
    }

    [Fact]
    public void A_missing_element_and_a_missing_list_entry_are_reported()
    {
        var expected = Config($"<interfaces xmlns=\"{If}\"><interface><name>eth9</name></interface></interfaces><system xmlns=\"urn:s\"><contact>x</contact></system>");
        var actual = Data($"<interfaces xmlns=\"{If}\"><interface><name>eth0</name></interface><interface><name>eth1</name></interface></interfaces>");
        Assert.Equal(["/interfaces/interface (no entry matches)", "/system (missing)"], ConfigVerification.FindDifferences(expected, actual));
    }

    [Fact]
    public void Same_name_in_another_namespace_does_not_count()
    {
        var expected = Config("<system xmlns=\"urn:a\"><hostname>r1</hostname></system>");
        var actual = Data("<system xmlns=\"urn:b\"><hostname>r1</hostname></system>");
        Assert.Equal(["/system (missing)"], ConfigVerification.FindDifferences(expected, actual));
    }

    [Fact]
    public void Identityref_values_compare_by_namespace_not_prefix()
    {
        var expected = Config($"<interfaces xmlns=\"{If}\" xmlns:ianaift=\"urn:iana-if-type\"><interface><name>e</name><type>ianaift:ethernetCsmacd</type></interface></interfaces>");
        var same = Data($"<interfaces xmlns=\"{If}\"><interface><name>e</name><type xmlns:ift=\"urn:iana-if-type\">ift:ethernetCsmacd</type></interface></interfaces>");
        var other = Data($"<interfaces xmlns=\"{If}\"><interface><name>e</name><type xmlns:ift=\"urn:other\">ift:ethernetCsmacd</type></interface></interfaces>");
        Assert.Empty(ConfigVerification.FindDifferences(expected, same));
        Assert.Single(ConfigVerification.FindDifferences(expected, other));
    }

    [Fact]
    public void A_deleted_entry_must_be_absent()
    {
        var expected = Config($"<interfaces xmlns=\"{If}\" xmlns:nc=\"{NetconfXml.Base}\"><interface nc:operation=\"delete\"><name>old</name></interface></interfaces>");
        Assert.Empty(ConfigVerification.FindDifferences(expected, Data($"<interfaces xmlns=\"{If}\"><interface><name>new</name></interface></interfaces>")));
        Assert.Equal(["/interfaces/interface (still present)"],
            ConfigVerification.FindDifferences(expected, Data($"<interfaces xmlns=\"{If}\"><interface><name>old</name></interface></interfaces>")));
    }

    [Fact]
    public void Leaf_list_values_must_each_be_present()
    {
        var expected = Config("<dns xmlns=\"urn:d\"><server>a</server><server>b</server></dns>");
        Assert.Empty(ConfigVerification.FindDifferences(expected, Data("<dns xmlns=\"urn:d\"><server>b</server><server>a</server><server>c</server></dns>")));
        Assert.Equal(["/dns/server (different value)"], ConfigVerification.FindDifferences(expected, Data("<dns xmlns=\"urn:d\"><server>a</server></dns>")));
    }
}
