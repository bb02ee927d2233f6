using System.Buffers;
using System.Text.Json;
using System.Xml.Linq;

namespace Onboarding.Sztp;

/// <summary>
/// The device's side of the bootstrap server RPCs (RFC 8572 §7.2–7.3): writes the inputs that
/// <see cref="BootstrapServerRpc"/> parses on the server, in JSON (RFC 7951, <c>ietf-sztp-bootstrap-server:input</c>)
/// or XML (RFC 8040 §3.6, <c>&lt;input&gt;</c> in the module namespace). Used by the device simulator and the bench.
/// </summary>
public static class DeviceRpcInput
{
    private static readonly XNamespace Ns = BootstrapServerRpc.Namespace;

    public static byte[] WriteGetBootstrappingData(GetBootstrappingDataInput input, SztpEncoding encoding)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (encoding == SztpEncoding.Json)
        {
            return Json(json =>
            {
                if (input.SignedDataPreferred)
                {
                    // RFC 7951 §6.9: a leaf of type empty is [null].
                    json.WriteStartArray("signed-data-preferred");
                    json.WriteNullValue();
                    json.WriteEndArray();
                }
                WriteOptional(json, "hw-model", input.HwModel);
                WriteOptional(json, "os-name", input.OsName);
                WriteOptional(json, "os-version", input.OsVersion);
                if (input.Nonce is { } nonce)
                    json.WriteBase64String("nonce", nonce);
            });
        }
        return ConveyedInformationCodec.WriteXml(new XElement(Ns + "input",
            input.SignedDataPreferred ? new XElement(Ns + "signed-data-preferred") : null,
            input.HwModel is null ? null : new XElement(Ns + "hw-model", input.HwModel),
            input.OsName is null ? null : new XElement(Ns + "os-name", input.OsName),
            input.OsVersion is null ? null : new XElement(Ns + "os-version", input.OsVersion),
            input.Nonce is null ? null : new XElement(Ns + "nonce", Convert.ToBase64String(input.Nonce))));
    }

    public static byte[] WriteReportProgress(ReportProgressInput input, SztpEncoding encoding)
    {
        ArgumentNullException.ThrowIfNull(input);
        var type = ProgressTypes.Name(input.ProgressType);
        var keys = input.SshHostKeys ?? [];
        var anchors = input.TrustAnchorCerts ?? [];
        if (encoding == SztpEncoding.Json)
        {
            return Json(json =>
            {
                json.WriteString("progress-type", type);
                WriteOptional(json, "message", input.Message);
                if (keys.Count > 0)
                {
                    json.WriteStartObject("ssh-host-keys");
                    json.WriteStartArray("ssh-host-key");
                    foreach (var key in keys)
                    {
                        json.WriteStartObject();
                        json.WriteString("algorithm", key.Algorithm);
                        json.WriteBase64String("key-data", key.KeyData);
                        json.WriteEndObject();
                    }
                    json.WriteEndArray();
                    json.WriteEndObject();
                }
                if (anchors.Count > 0)
                {
                    json.WriteStartObject("trust-anchor-certs");
                    json.WriteStartArray("trust-anchor-cert");
                    foreach (var anchor in anchors)
                        json.WriteBase64StringValue(anchor);
                    json.WriteEndArray();
                    json.WriteEndObject();
                }
            });
        }
        return ConveyedInformationCodec.WriteXml(new XElement(Ns + "input",
            new XElement(Ns + "progress-type", type),
            input.Message is null ? null : new XElement(Ns + "message", input.Message),
            keys.Count == 0 ? null : new XElement(Ns + "ssh-host-keys", keys.Select(k => new XElement(Ns + "ssh-host-key",
                new XElement(Ns + "algorithm", k.Algorithm), new XElement(Ns + "key-data", Convert.ToBase64String(k.KeyData))))),
            anchors.Count == 0 ? null : new XElement(Ns + "trust-anchor-certs",
                anchors.Select(a => new XElement(Ns + "trust-anchor-cert", Convert.ToBase64String(a))))));
    }

    private static byte[] Json(Action<Utf8JsonWriter> members)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartObject($"{BootstrapServerRpc.Module}:input");
            members(json);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
            json.WriteString(name, value);
    }
}
