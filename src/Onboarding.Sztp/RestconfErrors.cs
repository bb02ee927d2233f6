using System.Buffers;
using System.Text.Json;
using System.Xml.Linq;

namespace Onboarding.Sztp;

/// <summary>RFC 8040 §7.1 error-type.</summary>
public enum RestconfErrorType
{
    Transport,
    Rpc,
    Protocol,
    Application,
}

/// <summary>One error of the errors container: error-tag is one of RFC 8040 §7's tags (e.g. "access-denied").</summary>
public sealed record RestconfError(RestconfErrorType Type, string Tag, string? Message = null, string? AppTag = null, string? Path = null);

/// <summary>The <c>ietf-restconf:errors</c> envelope (RFC 8040 §7.1, module ietf-restconf §8) in JSON and XML.</summary>
public static class RestconfErrors
{
    public const string Namespace = "urn:ietf:params:xml:ns:yang:ietf-restconf";
    private static readonly XNamespace Ns = Namespace;

    public static byte[] Write(IReadOnlyList<RestconfError> errors, SztpEncoding encoding)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (errors.Count == 0)
            throw new ArgumentException("an errors envelope needs at least one error", nameof(errors));
        if (encoding == SztpEncoding.Json)
        {
            var buffer = new ArrayBufferWriter<byte>();
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteStartObject("ietf-restconf:errors");
                json.WriteStartArray("error");
                foreach (var error in errors)
                {
                    json.WriteStartObject();
                    json.WriteString("error-type", TypeName(error.Type));
                    json.WriteString("error-tag", error.Tag);
                    if (error.AppTag is not null)
                        json.WriteString("error-app-tag", error.AppTag);
                    if (error.Path is not null)
                        json.WriteString("error-path", error.Path);
                    if (error.Message is not null)
                        json.WriteString("error-message", error.Message);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteEndObject();
                json.WriteEndObject();
            }
            return buffer.WrittenSpan.ToArray();
        }
        return ConveyedInformationCodec.WriteXml(new XElement(Ns + "errors", errors.Select(e => new XElement(Ns + "error",
            new XElement(Ns + "error-type", TypeName(e.Type)),
            new XElement(Ns + "error-tag", e.Tag),
            e.AppTag is null ? null : new XElement(Ns + "error-app-tag", e.AppTag),
            e.Path is null ? null : new XElement(Ns + "error-path", e.Path),
            e.Message is null ? null : new XElement(Ns + "error-message", e.Message)))));
    }

    private static string TypeName(RestconfErrorType type) => type.ToString().ToLowerInvariant();
}
