using System.Buffers;
using System.Text.Json;
using System.Xml.Linq;

namespace Onboarding.Sztp;

/// <summary>Input of the get-bootstrapping-data RPC (RFC 8572 §7.2, module ietf-sztp-bootstrap-server).</summary>
public sealed record GetBootstrappingDataInput(
    bool SignedDataPreferred = false,
    string? HwModel = null,
    string? OsName = null,
    string? OsVersion = null,
    byte[]? Nonce = null);

/// <summary>Output of get-bootstrapping-data: conveyed-information is mandatory; the owner certificate and voucher go together.</summary>
public sealed record GetBootstrappingDataOutput(
    byte[] ConveyedInformation,
    byte[]? OwnerCertificate = null,
    byte[]? OwnershipVoucher = null,
    ReportingLevel? ReportingLevel = null);

/// <summary>leaf reporting-level of the output.</summary>
public enum ReportingLevel
{
    Minimal,
    Verbose,
}

/// <summary>One ssh-host-key of a bootstrap-complete report: algorithm name and the key in SSH wire format.</summary>
public sealed record SshHostKey(string Algorithm, byte[] KeyData);

/// <summary>Input of the report-progress RPC (RFC 8572 §7.3).</summary>
public sealed record ReportProgressInput(
    ProgressType ProgressType,
    string? Message = null,
    IReadOnlyList<SshHostKey>? SshHostKeys = null,
    IReadOnlyList<byte[]>? TrustAnchorCerts = null);

/// <summary>
/// The RPC bodies of the bootstrap server in JSON (RFC 7951; <c>ietf-sztp-bootstrap-server:input</c> /
/// <c>:output</c>) and XML (RFC 8040 §3.6: <c>&lt;input&gt;</c> / <c>&lt;output&gt;</c> in the module namespace).
/// Parsers are total: bounded size, and an <see cref="SztpException"/> for anything else than the module allows.
/// </summary>
public static class BootstrapServerRpc
{
    public const string Module = "ietf-sztp-bootstrap-server";
    public const string Namespace = "urn:ietf:params:xml:ns:yang:ietf-sztp-bootstrap-server";
    /// <summary>A device's request is a few hundred bytes; a report carries a few host keys and anchors.</summary>
    public const int DefaultMaxBytes = 256 * 1024;
    private const int MaxListItems = 32;
    private static readonly XNamespace Ns = Namespace;

    public static GetBootstrappingDataInput ParseGetBootstrappingDataInput(ReadOnlyMemory<byte> body, SztpEncoding encoding,
        int maxBytes = DefaultMaxBytes)
    {
        string[] leaves = ["signed-data-preferred", "hw-model", "os-name", "os-version", "nonce"];
        // RFC 8040 §3.6.1: an RPC without input may be invoked with an empty body.
        if (body.IsEmpty)
            return new GetBootstrappingDataInput();
        if (encoding == SztpEncoding.Json)
        {
            using var document = YangInput.ParseJson(body, maxBytes);
            var input = YangInput.TopLevel(document, $"{Module}:input");
            YangInput.CheckMembers(input, "input", leaves);
            return new GetBootstrappingDataInput(YangInput.Empty(input, "signed-data-preferred"), YangInput.String(input, "hw-model"),
                YangInput.String(input, "os-name"), YangInput.String(input, "os-version"), YangInput.Binary(input, "nonce"));
        }
        var root = YangInput.ParseXml(body, maxBytes);
        YangInput.CheckRoot(root, Ns, "input");
        YangInput.CheckChildren(root, Ns, leaves);
        if (root.Element(Ns + "signed-data-preferred") is { } preferred && (preferred.HasElements || preferred.Value.Length > 0))
            throw new SztpException(SztpError.Malformed, "signed-data-preferred is of type empty");
        return new GetBootstrappingDataInput(root.Element(Ns + "signed-data-preferred") is not null, YangInput.Text(root, Ns, "hw-model"),
            YangInput.Text(root, Ns, "os-name"), YangInput.Text(root, Ns, "os-version"), YangInput.Binary(root, Ns, "nonce"));
    }

    public static ReportProgressInput ParseReportProgressInput(ReadOnlyMemory<byte> body, SztpEncoding encoding,
        int maxBytes = DefaultMaxBytes)
    {
        string[] leaves = ["progress-type", "message", "ssh-host-keys", "trust-anchor-certs"];
        if (encoding == SztpEncoding.Json)
        {
            using var document = YangInput.ParseJson(body, maxBytes);
            var input = YangInput.TopLevel(document, $"{Module}:input");
            YangInput.CheckMembers(input, "input", leaves);
            var keys = new List<SshHostKey>();
            if (input.TryGetProperty("ssh-host-keys", out var container))
            {
                YangInput.RequireObject(container, "ssh-host-keys");
                YangInput.CheckMembers(container, "ssh-host-keys", "ssh-host-key");
                foreach (var key in YangInput.Array(container, "ssh-host-key", MaxListItems))
                {
                    YangInput.RequireObject(key, "ssh-host-key");
                    YangInput.CheckMembers(key, "ssh-host-key", "algorithm", "key-data");
                    keys.Add(HostKey(YangInput.String(key, "algorithm"), YangInput.Binary(key, "key-data")));
                }
            }
            var anchors = new List<byte[]>();
            if (input.TryGetProperty("trust-anchor-certs", out var certs))
            {
                YangInput.RequireObject(certs, "trust-anchor-certs");
                YangInput.CheckMembers(certs, "trust-anchor-certs", "trust-anchor-cert");
                foreach (var cert in YangInput.Array(certs, "trust-anchor-cert", MaxListItems))
                    anchors.Add(YangInput.Base64(cert.ValueKind == JsonValueKind.String ? cert.GetString()
                        : throw new SztpException(SztpError.Malformed, "trust-anchor-cert must be base64 strings"), "trust-anchor-cert")!);
            }
            return new ReportProgressInput(ParseProgressType(YangInput.String(input, "progress-type")),
                YangInput.String(input, "message"), keys, anchors);
        }
        var root = YangInput.ParseXml(body, maxBytes);
        YangInput.CheckRoot(root, Ns, "input");
        YangInput.CheckChildren(root, Ns, leaves);
        var xmlKeys = new List<SshHostKey>();
        if (root.Element(Ns + "ssh-host-keys") is { } hostKeys)
        {
            YangInput.CheckChildren(hostKeys, Ns, "ssh-host-key");
            foreach (var key in hostKeys.Elements(Ns + "ssh-host-key").Take(MaxListItems + 1))
            {
                YangInput.CheckChildren(key, Ns, "algorithm", "key-data");
                xmlKeys.Add(HostKey(YangInput.Text(key, Ns, "algorithm"), YangInput.Binary(key, Ns, "key-data")));
            }
        }
        var xmlAnchors = root.Element(Ns + "trust-anchor-certs") is { } anchorCerts
            ? anchorCerts.Elements(Ns + "trust-anchor-cert").Take(MaxListItems + 1)
                .Select(c => YangInput.Base64(c.Value, "trust-anchor-cert")!).ToList()
            : [];
        if (xmlKeys.Count > MaxListItems || xmlAnchors.Count > MaxListItems)
            throw new SztpException(SztpError.TooLarge, $"report-progress lists hold at most {MaxListItems} entries");
        return new ReportProgressInput(ParseProgressType(YangInput.Text(root, Ns, "progress-type")),
            YangInput.Text(root, Ns, "message"), xmlKeys, xmlAnchors);
    }

    private static SshHostKey HostKey(string? algorithm, byte[]? keyData) =>
        algorithm is null || keyData is null
            ? throw new SztpException(SztpError.Malformed, "an ssh-host-key needs algorithm and key-data")
            : new SshHostKey(algorithm, keyData);

    private static ProgressType ParseProgressType(string? text) =>
        text is null ? throw new SztpException(SztpError.Malformed, "progress-type is mandatory")
            : ProgressTypes.Parse(text) ?? throw new SztpException(SztpError.UnknownNode, $"unknown progress-type '{YangInput.Truncate(text)}'");

    public static byte[] WriteGetBootstrappingDataOutput(GetBootstrappingDataOutput output, SztpEncoding encoding)
    {
        ArgumentNullException.ThrowIfNull(output);
        // RFC 8572 §7.2: owner-certificate and ownership-voucher are present together or not at all.
        if ((output.OwnerCertificate is null) != (output.OwnershipVoucher is null))
            throw new ArgumentException("owner-certificate and ownership-voucher go together");
        var level = output.ReportingLevel is { } l ? (l == ReportingLevel.Minimal ? "minimal" : "verbose") : null;
        if (encoding == SztpEncoding.Json)
        {
            var buffer = new ArrayBufferWriter<byte>();
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteStartObject($"{Module}:output");
                if (level is not null)
                    json.WriteString("reporting-level", level);
                json.WriteBase64String("conveyed-information", output.ConveyedInformation);
                if (output.OwnerCertificate is { } owner)
                    json.WriteBase64String("owner-certificate", owner);
                if (output.OwnershipVoucher is { } voucher)
                    json.WriteBase64String("ownership-voucher", voucher);
                json.WriteEndObject();
                json.WriteEndObject();
            }
            return buffer.WrittenSpan.ToArray();
        }
        return ConveyedInformationCodec.WriteXml(new XElement(Ns + "output",
            level is null ? null : new XElement(Ns + "reporting-level", level),
            new XElement(Ns + "conveyed-information", Convert.ToBase64String(output.ConveyedInformation)),
            output.OwnerCertificate is { } o ? new XElement(Ns + "owner-certificate", Convert.ToBase64String(o)) : null,
            output.OwnershipVoucher is { } v ? new XElement(Ns + "ownership-voucher", Convert.ToBase64String(v)) : null));
    }

    /// <summary>Reads an output, as the device simulator does with the server's answer.</summary>
    public static GetBootstrappingDataOutput ParseGetBootstrappingDataOutput(ReadOnlyMemory<byte> body, SztpEncoding encoding,
        int maxBytes = SztpCms.DefaultMaxBytes * 2)
    {
        string[] leaves = ["reporting-level", "conveyed-information", "owner-certificate", "ownership-voucher"];
        string? level;
        byte[]? conveyed, owner, voucher;
        if (encoding == SztpEncoding.Json)
        {
            using var document = YangInput.ParseJson(body, maxBytes);
            var output = YangInput.TopLevel(document, $"{Module}:output");
            YangInput.CheckMembers(output, "output", leaves);
            (level, conveyed, owner, voucher) = (YangInput.String(output, "reporting-level"), YangInput.Binary(output, "conveyed-information"),
                YangInput.Binary(output, "owner-certificate"), YangInput.Binary(output, "ownership-voucher"));
        }
        else
        {
            var root = YangInput.ParseXml(body, maxBytes);
            YangInput.CheckRoot(root, Ns, "output");
            YangInput.CheckChildren(root, Ns, leaves);
            (level, conveyed, owner, voucher) = (YangInput.Text(root, Ns, "reporting-level"), YangInput.Binary(root, Ns, "conveyed-information"),
                YangInput.Binary(root, Ns, "owner-certificate"), YangInput.Binary(root, Ns, "ownership-voucher"));
        }
        ReportingLevel? reporting = level switch
        {
            null => null,
            "minimal" => ReportingLevel.Minimal,
            "verbose" => ReportingLevel.Verbose,
            _ => throw new SztpException(SztpError.UnknownNode, $"unknown reporting-level '{YangInput.Truncate(level)}'"),
        };
        return new GetBootstrappingDataOutput(
            conveyed ?? throw new SztpException(SztpError.Malformed, "the output has no conveyed-information"), owner, voucher, reporting);
    }
}
