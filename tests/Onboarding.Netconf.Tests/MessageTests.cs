using System.Text;
using System.Xml.Linq;
using Onboarding.Netconf.Messages;

namespace Onboarding.Netconf.Tests;

/// <summary>Hello, rpc-reply and rpc-error (RFC 6241 §4.2–4.3, §8.1) and the hostile-input rules of the XML reader.</summary>
public class MessageTests
{
    [Fact]
    public void Rfc6241_server_hello_parses_with_trimmed_capabilities_and_session_id()
    {
        var hello = HelloMessage.Parse(NetconfXml.Parse(Encoding.ASCII.GetBytes(RfcExamples.ServerHello), 1 << 20));
        Assert.Equal(4u, hello.SessionId);
        Assert.True(hello.Capabilities.HasBase11);
        Assert.False(hello.Capabilities.HasBase10);
        Assert.True(hello.Capabilities.Has("urn:ietf:params:netconf:capability:startup:1.0"));
        Assert.False(hello.Capabilities.HasCandidate);
    }

    [Fact]
    public void Capabilities_compare_without_module_parameters()
    {
        var caps = new NetconfCapabilities([
            "urn:ietf:params:netconf:capability:candidate:1.0",
            "urn:ietf:params:netconf:capability:validate:1.1?module=x",
            "urn:ietf:params:netconf:capability:writable-running:1.0",
        ]);
        Assert.True(caps.HasCandidate);
        Assert.True(caps.HasValidate);
        Assert.True(caps.HasWritableRunning);
        Assert.False(caps.HasBase10);
    }

    [Fact]
    public void Hello_round_trips_through_xml()
    {
        var hello = new HelloMessage(new NetconfCapabilities([NetconfCapabilities.Base10, NetconfCapabilities.Base11]), 42);
        var parsed = HelloMessage.Parse(NetconfXml.Parse(NetconfXml.Serialize(hello.ToXml()), 1 << 20));
        Assert.Equal(42u, parsed.SessionId);
        Assert.Equal(hello.Capabilities.All, parsed.Capabilities.All);
        Assert.Equal(
            "<hello xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><capabilities><capability>urn:ietf:params:netconf:base:1.0</capability>" +
            "<capability>urn:ietf:params:netconf:base:1.1</capability></capabilities><session-id>42</session-id></hello>",
            Encoding.UTF8.GetString(NetconfXml.Serialize(hello.ToXml())));
    }

    [Theory]
    [InlineData("<hello xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><capabilities/><session-id>0</session-id></hello>")]
    [InlineData("<hello xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><capabilities/><session-id>-1</session-id></hello>")]
    [InlineData("<hello xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><capabilities/><session-id>4294967296</session-id></hello>")]
    [InlineData("<hello xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><session-id>1</session-id></hello>")]
    [InlineData("<hello><capabilities/></hello>")]
    [InlineData("<rpc-reply xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"/>")]
    public void Bad_hellos_are_protocol_errors(string xml)
    {
        var e = Assert.Throws<NetconfException>(() => HelloMessage.Parse(NetconfXml.Parse(xml, 1 << 20)));
        Assert.Equal(NetconfError.Protocol, e.Error);
    }

    [Fact]
    public void Rfc6241_missing_attribute_reply_parses_into_a_typed_error()
    {
        var reply = RpcReply.Parse(NetconfXml.Parse(RfcExamples.MissingAttributeReply, 1 << 20));
        Assert.Null(reply.MessageId);
        Assert.False(reply.IsOk);
        Assert.True(reply.HasErrors);
        var error = Assert.Single(reply.Errors);
        Assert.Equal(RpcErrorType.Rpc, error.Type);
        Assert.Equal("missing-attribute", error.Tag);
        Assert.Equal(RpcErrorSeverity.Error, error.Severity);
        Assert.Equal("message-id", error.Info!.Element(NetconfXml.Base + "bad-attribute")!.Value);
        Assert.Equal("rpc", error.Info!.Element(NetconfXml.Base + "bad-element")!.Value);
    }

    [Fact]
    public void Rfc6241_two_error_reply_keeps_path_and_message()
    {
        var reply = RpcReply.Parse(NetconfXml.Parse(RfcExamples.TwoErrorsReply, 1 << 20));
        Assert.Equal("101", reply.MessageId);
        Assert.Equal(2, reply.Errors.Count);
        Assert.All(reply.Errors, e => Assert.Equal(RpcErrorType.Application, e.Type));
        Assert.Equal("invalid-value", reply.Errors[0].Tag);
        Assert.Equal("/t:top/t:interface[t:name=\"Ethernet0/0\"]/t:mtu", reply.Errors[0].Path);
        Assert.Equal("MTU value 25000 is not within range 256..9192", reply.Errors[0].Message);
        Assert.Equal("Invalid IP address for interface Ethernet1/0", reply.Errors[1].Message);
        Assert.Contains("application/invalid-value: MTU value 25000", new NetconfRpcException(reply.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ok_data_and_warning_replies_parse()
    {
        var ok = RpcReply.Parse(NetconfXml.Parse("<rpc-reply message-id=\"7\" xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><ok/></rpc-reply>", 1 << 20));
        Assert.True(ok.IsOk);
        Assert.False(ok.HasErrors);
        var data = RpcReply.Parse(NetconfXml.Parse("<rpc-reply message-id=\"8\" xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><data><top xmlns=\"urn:t\"/></data></rpc-reply>", 1 << 20));
        Assert.Equal("top", data.Data!.Elements().Single().Name.LocalName);
        var warning = RpcReply.Parse(NetconfXml.Parse(
            "<rpc-reply message-id=\"9\" xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><rpc-error><error-type>application</error-type>" +
            "<error-tag>operation-failed</error-tag><error-severity>warning</error-severity><error-app-tag>x</error-app-tag></rpc-error><ok/></rpc-reply>", 1 << 20));
        Assert.True(warning.IsOk);
        Assert.False(warning.HasErrors);
        Assert.Equal("x", warning.Errors.Single().AppTag);
    }

    [Theory]
    [InlineData("<rpc-reply xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><rpc-error><error-tag>x</error-tag><error-severity>error</error-severity></rpc-error></rpc-reply>")]
    [InlineData("<rpc-reply xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><rpc-error><error-type>bogus</error-type><error-tag>x</error-tag><error-severity>error</error-severity></rpc-error></rpc-reply>")]
    [InlineData("<rpc-reply xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><rpc-error><error-type>rpc</error-type><error-tag>x</error-tag><error-severity>fatal</error-severity></rpc-error></rpc-reply>")]
    [InlineData("<rpc-reply><ok/></rpc-reply>")]
    public void Bad_replies_are_protocol_errors(string xml)
    {
        var e = Assert.Throws<NetconfException>(() => RpcReply.Parse(NetconfXml.Parse(xml, 1 << 20)));
        Assert.Equal(NetconfError.Protocol, e.Error);
    }

    [Fact]
    public void Rpc_error_written_by_us_reads_back_the_same()
    {
        var error = new RpcError(RpcErrorType.Protocol, "lock-denied", RpcErrorSeverity.Error, "app", "/a/b", "locked",
            new XElement(NetconfXml.Base + "error-info", new XElement(NetconfXml.Base + "session-id", 3)));
        var back = RpcError.Parse(error.ToXml());
        Assert.Equal(error with { Info = null }, back with { Info = null });
        Assert.Equal("3", back.Info!.Element(NetconfXml.Base + "session-id")!.Value);
    }

    [Theory]
    [InlineData("<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]><rpc-reply>&b;</rpc-reply>")]
    [InlineData("<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><rpc-reply>&x;</rpc-reply>")]
    [InlineData("<rpc-reply><unclosed></rpc-reply>")]
    [InlineData("")]
    [InlineData("not xml")]
    public void Dtds_entities_and_broken_xml_are_refused(string xml)
    {
        var e = Assert.Throws<NetconfException>(() => NetconfXml.Parse(xml, 1 << 20));
        Assert.Equal(NetconfError.MalformedXml, e.Error);
    }

    [Fact]
    public void Deep_nesting_and_oversize_are_refused()
    {
        var deep = string.Concat(Enumerable.Repeat("<a>", 100)) + string.Concat(Enumerable.Repeat("</a>", 100));
        Assert.Equal(NetconfError.MalformedXml, Assert.Throws<NetconfException>(() => NetconfXml.Parse(deep, 1 << 20)).Error);
        Assert.Equal(NetconfError.TooLarge, Assert.Throws<NetconfException>(() => NetconfXml.Parse("<a>" + new string('x', 100) + "</a>", 64)).Error);
    }
}
