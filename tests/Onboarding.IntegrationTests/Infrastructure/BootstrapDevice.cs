using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Onboarding.IntegrationTests.Infrastructure;

/// <summary>
/// A device at an RFC 8572 bootstrap server, played by Debian's curl with the device's IDevID as client certificate
/// and the server's trust anchor as <c>--cacert</c>; conveyed information is read back with <c>openssl cms</c>.
/// </summary>
public sealed partial class BootstrapDevice : IDisposable
{
    public const string JsonType = "application/yang-data+json";
    public const string XmlType = "application/yang-data+xml";
    private readonly string _directory = Directory.CreateTempSubdirectory("onboarding-device-").FullName;

    public BootstrapDevice(X509Certificate2 certificate, string host, int port, X509Certificate2 trustAnchor)
    {
        Certificate = certificate;
        (Host, Port) = (host, port);
        CertificatePath = Write("device.pem", certificate.ExportCertificatePem());
        using AsymmetricAlgorithm key = (AsymmetricAlgorithm?)certificate.GetECDsaPrivateKey() ?? certificate.GetRSAPrivateKey()
            ?? throw new ArgumentException("the device certificate needs its private key", nameof(certificate));
        KeyPath = Write("device.key", key.ExportPkcs8PrivateKeyPem());
        TrustAnchorPath = Write("trust-anchor.pem", trustAnchor.ExportCertificatePem());
    }

    public X509Certificate2 Certificate { get; }

    public string Host { get; }

    public int Port { get; }

    public string CertificatePath { get; }

    public string KeyPath { get; }

    public string TrustAnchorPath { get; }

    public sealed record Answer(int Status, string ContentType, string Body)
    {
        public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();

        /// <summary>The first error of an <c>ietf-restconf:errors</c> JSON envelope.</summary>
        public JsonElement Error => Json.GetProperty("ietf-restconf:errors").GetProperty("error")[0];
    }

    /// <summary>POSTs an RPC of ietf-sztp-bootstrap-server with curl.</summary>
    public async Task<Answer> PostAsync(string rpc, string body, string contentType = JsonType, string? accept = null)
    {
        var bodyPath = Write($"request-{Guid.NewGuid():N}", body);
        var outputPath = Path.Combine(_directory, $"answer-{Guid.NewGuid():N}");
        var result = await ExternalTool.RunAsync("curl",
        [
            "-sS", "--max-time", "30", "--cacert", TrustAnchorPath, "--cert", CertificatePath, "--key", KeyPath,
            "--resolve", $"{Host}:{Port}:127.0.0.1", "-H", $"Content-Type: {contentType}", "-H", $"Accept: {accept ?? contentType}",
            "--data-binary", "@" + bodyPath, "-o", outputPath, "-w", "%{http_code}\n%{content_type}",
            $"https://{Host}:{Port}/restconf/operations/ietf-sztp-bootstrap-server:{rpc}",
        ]);
        Assert.True(result.ExitCode == 0, $"curl failed ({result.ExitCode}): {result.Stderr}");
        var written = result.Stdout.Split('\n');
        return new Answer(int.Parse(written[0], CultureInfo.InvariantCulture), written.Length > 1 ? written[1] : "",
            File.Exists(outputPath) ? await File.ReadAllTextAsync(outputPath) : "");
    }

    /// <summary>
    /// Decodes unsigned conveyed information with <c>openssl cms -cmsout -print</c>: its content type (OpenSSL prints the
    /// SZTP OIDs as <c>undefined (…)</c>) and the content octets from OpenSSL's hex dump of <c>d.other</c>.
    /// </summary>
    public async Task<(string ContentType, byte[] Content)> DecodeWithOpenSslAsync(byte[] cms)
    {
        var path = Path.Combine(_directory, $"conveyed-{Guid.NewGuid():N}.der");
        await File.WriteAllBytesAsync(path, cms);
        var printed = await ExternalTool.RunAsync("/usr/bin/openssl", ["cms", "-inform", "DER", "-in", path, "-cmsout", "-print"]);
        Assert.True(printed.ExitCode == 0, printed.Stderr);
        var type = ContentTypeLine().Match(printed.Stdout);
        Assert.True(type.Success, printed.Stdout);
        Assert.Contains("d.other: OCTET STRING:", printed.Stdout, StringComparison.Ordinal);
        var content = new List<byte>();
        foreach (Match line in HexDumpLine().Matches(printed.Stdout))
        {
            var hex = line.Groups[1].Value;
            foreach (Match octet in HexOctet().Matches(hex[..Math.Min(48, hex.Length)]))
                content.Add(byte.Parse(octet.Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        }

        return (type.Groups[1].Value, [.. content]);
    }

    public void Dispose()
    {
        Certificate.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, content, new UTF8Encoding(false));
        return path;
    }

    [GeneratedRegex(@"contentType: (?:undefined \()?([0-9.]+)\)?")]
    private static partial Regex ContentTypeLine();

    [GeneratedRegex(@"^\s+[0-9a-f]{4} - (.*)$", RegexOptions.Multiline)]
    private static partial Regex HexDumpLine();

    [GeneratedRegex("[0-9a-f]{2}")]
    private static partial Regex HexOctet();
}
