using System.Text;
using System.Xml;
using System.Xml.Linq;
using Onboarding.Accounts.Contracts;

namespace Onboarding.NmsBootstrap.Answers;

/// <summary>What a device is told in its onboarding-information: call the NMS home, and let the NMS's key in.</summary>
/// <param name="Serial">The device's serial (Junos outbound-ssh device-id).</param>
/// <param name="Host">Where to call home.</param>
/// <param name="Port">RFC 8071 call-home port.</param>
/// <param name="UserName">The user the NMS logs in as.</param>
/// <param name="PublicKeyLine">The NMS client key as an authorized_keys line.</param>
/// <param name="DeviceSecret">The per-device outbound-ssh secret (Junos only).</param>
internal sealed record CallHomeTarget(string Serial, string Host, int Port, string UserName, string PublicKeyLine, string DeviceSecret);

/// <summary>
/// Renders the call-home configuration (RFC 8572 §2.2.2 <c>configuration</c>, applied with configuration-handling
/// merge) in the style the device's manufacturer understands. Output is minimal: only what call home needs, so strict
/// devices have nothing unknown to reject.
/// </summary>
internal static class CallHomeConfiguration
{
    public const string NetconfServerNamespace = "urn:ietf:params:xml:ns:yang:ietf-netconf-server";
    public const string CryptoTypesNamespace = "urn:ietf:params:xml:ns:yang:ietf-crypto-types";
    public const string ClientName = "onboarding-nms";

    public static byte[] Render(CallHomeStyle style, CallHomeTarget target) => style switch
    {
        CallHomeStyle.Junos => Junos(target),
        _ => Netconf(target),
    };

    /// <summary>
    /// ietf-netconf-server (RFC 9643 groupings, draft-ietf-netconf-netconf-client-server):
    /// <c>netconf-server/call-home/netconf-client/endpoints/endpoint/ssh</c> with tcp-client-parameters (remote-address,
    /// remote-port) and ssh-server-parameters/client-authentication authorizing the NMS user's public key inline
    /// (ct:ssh-public-key-format, the RFC 4253 §6.6 blob in base64). server-identity is left to the device: merged into
    /// its running configuration, the endpoint uses the host key the device already has, which bootstrap-complete pins.
    /// connection-type persistent: the device keeps one session up and dials again when it drops (RFC 8071 §4.1).
    /// </summary>
    private static byte[] Netconf(CallHomeTarget target)
    {
        XNamespace ns = NetconfServerNamespace;
        var keyBlob = target.PublicKeyLine.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        var publicKeyFormat = new XElement(ns + "public-key-format", new XAttribute(XNamespace.Xmlns + "ct", CryptoTypesNamespace), "ct:ssh-public-key-format");
        var document = new XElement(ns + "netconf-server",
            new XElement(ns + "call-home",
                new XElement(ns + "netconf-client",
                    new XElement(ns + "name", ClientName),
                    new XElement(ns + "endpoints",
                        new XElement(ns + "endpoint",
                            new XElement(ns + "name", "nms-call-home"),
                            new XElement(ns + "ssh",
                                new XElement(ns + "tcp-client-parameters",
                                    new XElement(ns + "remote-address", target.Host),
                                    new XElement(ns + "remote-port", target.Port)),
                                new XElement(ns + "ssh-server-parameters",
                                    new XElement(ns + "client-authentication",
                                        new XElement(ns + "users",
                                            new XElement(ns + "user",
                                                new XElement(ns + "name", target.UserName),
                                                new XElement(ns + "public-keys",
                                                    new XElement(ns + "inline-definition",
                                                        new XElement(ns + "public-key",
                                                            new XElement(ns + "name", ClientName),
                                                            publicKeyFormat,
                                                            new XElement(ns + "public-key", keyBlob))))))))))),
                    new XElement(ns + "connection-type", new XElement(ns + "persistent")))));

        using var buffer = new MemoryStream();
        using (var writer = XmlWriter.Create(buffer, new XmlWriterSettings { Encoding = new UTF8Encoding(false), Indent = true, OmitXmlDeclaration = false }))
            document.WriteTo(writer);
        return buffer.ToArray();
    }

    /// <summary>
    /// Junos configuration text: <c>system services outbound-ssh client</c> (Juniper's call home, which opens with the
    /// DEVICE-CONN-INFO preamble: device-id = the serial, the per-device secret for its HMAC, services netconf, the NMS
    /// address and port), netconf over SSH enabled, and a login user that accepts the NMS client key.
    /// </summary>
    private static byte[] Junos(CallHomeTarget target)
    {
        var text = $$"""
            system {
                login {
                    user {{target.UserName}} {
                        class super-user;
                        authentication {
                            {{KeyStatement(target.PublicKeyLine)}} {{Quote(target.PublicKeyLine)}};
                        }
                    }
                }
                services {
                    netconf {
                        ssh;
                    }
                    outbound-ssh {
                        client {{ClientName}} {
                            device-id {{Quote(target.Serial)}};
                            secret {{Quote(target.DeviceSecret)}};
                            services netconf;
                            keep-alive {
                                retry 3;
                                timeout 15;
                            }
                            reconnect-strategy sticky;
                            {{target.Host}} port {{target.Port}};
                        }
                    }
                }
            }

            """;
        return Encoding.UTF8.GetBytes(text.ReplaceLineEndings("\n"));
    }

    /// <summary>Junos names the authentication statement after the key type (ssh-ed25519, ssh-ecdsa, ssh-rsa).</summary>
    private static string KeyStatement(string publicKeyLine) => publicKeyLine.Split(' ')[0] switch
    {
        "ssh-ed25519" => "ssh-ed25519",
        var type when type.StartsWith("ecdsa-sha2-", StringComparison.Ordinal) => "ssh-ecdsa",
        _ => "ssh-rsa",
    };

    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
