using System.Text;

namespace Onboarding.Netconf.Tests;

/// <summary>Byte-exact examples from the RFCs, the golden inputs of the framing and message tests.</summary>
internal static class RfcExamples
{
    /// <summary>RFC 6242 §4.2: the chunked example (chunk sizes 4, 18 and 79, then end-of-chunks).</summary>
    public static readonly byte[] ChunkedCloseSession = Encoding.ASCII.GetBytes(
        "\n#4\n<rpc" +
        "\n#18\n message-id=\"102\"\n" +
        "\n#79\n     xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\">\n  <close-session/>\n</rpc>" +
        "\n##\n");

    /// <summary>What RFC 6242 §4.2's chunks carry, concatenated.</summary>
    public const string CloseSessionRpc =
        "<rpc message-id=\"102\"\n     xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\">\n  <close-session/>\n</rpc>";

    /// <summary>RFC 6241 §8.1's server hello (session-id 4), framed as RFC 6242 §4.3 requires for every hello.</summary>
    public const string ServerHello =
        "<hello xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\">\n" +
        "  <capabilities>\n" +
        "    <capability>\n      urn:ietf:params:netconf:base:1.1\n    </capability>\n" +
        "    <capability>\n      urn:ietf:params:netconf:capability:startup:1.0\n    </capability>\n" +
        "    <capability>\n      http://example.net/router/2.3/myfeature\n    </capability>\n" +
        "  </capabilities>\n" +
        "  <session-id>4</session-id>\n" +
        "</hello>";

    public static byte[] ServerHelloFramed => Encoding.ASCII.GetBytes(ServerHello + "]]>]]>");

    /// <summary>RFC 6241 §4.3: the reply to an rpc without message-id.</summary>
    public const string MissingAttributeReply =
        "<rpc-reply xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\">\n" +
        "  <rpc-error>\n" +
        "    <error-type>rpc</error-type>\n" +
        "    <error-tag>missing-attribute</error-tag>\n" +
        "    <error-severity>error</error-severity>\n" +
        "    <error-info>\n" +
        "      <bad-attribute>message-id</bad-attribute>\n" +
        "      <bad-element>rpc</bad-element>\n" +
        "    </error-info>\n" +
        "  </rpc-error>\n" +
        "</rpc-reply>";

    /// <summary>RFC 6241 §4.3: two errors, with error-path and error-message.</summary>
    public const string TwoErrorsReply =
        "<rpc-reply message-id=\"101\"\n" +
        "  xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"\n" +
        "  xmlns:xc=\"urn:ietf:params:xml:ns:netconf:base:1.0\">\n" +
        "  <rpc-error>\n" +
        "    <error-type>application</error-type>\n" +
        "    <error-tag>invalid-value</error-tag>\n" +
        "    <error-severity>error</error-severity>\n" +
        "    <error-path xmlns:t=\"http://example.com/schema/1.2/config\">\n" +
        "      /t:top/t:interface[t:name=\"Ethernet0/0\"]/t:mtu\n" +
        "    </error-path>\n" +
        "    <error-message xml:lang=\"en\">\n" +
        "      MTU value 25000 is not within range 256..9192\n" +
        "    </error-message>\n" +
        "  </rpc-error>\n" +
        "  <rpc-error>\n" +
        "    <error-type>application</error-type>\n" +
        "    <error-tag>invalid-value</error-tag>\n" +
        "    <error-severity>error</error-severity>\n" +
        "    <error-path xmlns:t=\"http://example.com/schema/1.2/config\">\n" +
        "      /t:top/t:interface[t:name=\"Ethernet1/0\"]/t:address/t:name\n" +
        "    </error-path>\n" +
        "    <error-message xml:lang=\"en\">\n" +
        "      Invalid IP address for interface Ethernet1/0\n" +
        "    </error-message>\n" +
        "  </rpc-error>\n" +
        "</rpc-reply>";
}
