using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Onboarding.Bootstrap;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.Sztp;

namespace Onboarding.IntegrationTests;

/// <summary>
/// The shared device-facing RFC 8572 endpoint (<see cref="BootstrapServerEndpoint"/>) with answers written here, and
/// devices played by Debian's curl and openssl s_client: framing, negotiation, every refusal, and TLS.
/// </summary>
public sealed class BootstrapEndpointTests : IClassFixture<BootstrapEndpointTests.Fixture>
{
    private const string Get = BootstrapServerEndpoint.GetBootstrappingDataPath;
    private const string Report = BootstrapServerEndpoint.ReportProgressPath;
    private const string Json = "application/yang-data+json";
    private const string Xml = "application/yang-data+xml";
    private const string JsonInput = """{"ietf-sztp-bootstrap-server:input":{"hw-model":"MX204","nonce":"AAECAw=="}}""";
    private const string XmlInput = "<input xmlns=\"urn:ietf:params:xml:ns:yang:ietf-sztp-bootstrap-server\"><hw-model>MX204</hw-model></input>";
    private readonly Fixture _fixture;

    public BootstrapEndpointTests(Fixture fixture) => _fixture = fixture;

    [Fact]
    public async Task Json_request_is_answered_with_json_conveyed_information()
    {
        var response = await _fixture.CurlAsync(Get, JsonInput, Json);

        Assert.Equal(200, response.Status);
        Assert.StartsWith(Json, response.Header("Content-Type"));
        var output = BootstrapServerRpc.ParseGetBootstrappingDataOutput(Encoding.UTF8.GetBytes(response.Body), SztpEncoding.Json);
        var unsigned = SztpCms.DecodeUnsigned(output.ConveyedInformation);
        Assert.Equal(SztpOids.ConveyedInfoJson, unsigned.ContentType);
        var redirect = Assert.IsType<RedirectInformation>(ConveyedInformationCodec.Decode(unsigned.Content, SztpEncoding.Json));
        Assert.Equal("nms.example", redirect.BootstrapServers[0].Address);
        var seen = _fixture.Log.Last();
        Assert.Equal("MX204", seen.Input!.HwModel);
        Assert.Equal(new byte[] { 0, 1, 2, 3 }, seen.Input.Nonce);
        Assert.Equal("DEV-EC", DeviceSerial(seen.Device));
        Assert.Equal(SztpEncoding.Json, seen.Device.Encoding);
    }

    [Fact]
    public async Task Xml_request_is_answered_with_xml_conveyed_information()
    {
        var response = await _fixture.CurlAsync(Get, XmlInput, Xml);

        Assert.Equal(200, response.Status);
        Assert.StartsWith(Xml, response.Header("Content-Type"));
        var output = BootstrapServerRpc.ParseGetBootstrappingDataOutput(Encoding.UTF8.GetBytes(response.Body), SztpEncoding.Xml);
        var unsigned = SztpCms.DecodeUnsigned(output.ConveyedInformation);
        Assert.Equal(SztpOids.ConveyedInfoXml, unsigned.ContentType);
        Assert.IsType<RedirectInformation>(ConveyedInformationCodec.Decode(unsigned.Content, SztpEncoding.Xml));
        Assert.Equal(SztpEncoding.Xml, _fixture.Log.Last().Device.Encoding);
    }

    [Fact]
    public async Task Accept_chooses_the_answer_encoding_and_an_impossible_accept_is_406()
    {
        var xml = await _fixture.CurlAsync(Get, JsonInput, Json, ["-H", $"Accept: text/plain;q=0.5, {Xml}"]);
        Assert.Equal(200, xml.Status);
        Assert.StartsWith(Xml, xml.Header("Content-Type"));
        Assert.Contains("<output xmlns=\"urn:ietf:params:xml:ns:yang:ietf-sztp-bootstrap-server\">", xml.Body);

        var refused = await _fixture.CurlAsync(Get, JsonInput, Json, ["-H", "Accept: text/html"]);
        Assert.Equal(406, refused.Status);
        Assert.Equal("invalid-value", ErrorTag(refused));
    }

    [Fact]
    public async Task Unsupported_content_type_is_415()
    {
        var response = await _fixture.CurlAsync(Get, "hw-model=MX204", "application/x-www-form-urlencoded");

        Assert.Equal(415, response.Status);
        Assert.Equal("invalid-value", ErrorTag(response));
        Assert.Contains("Content-Type", ErrorMessage(response));
    }

    [Fact]
    public async Task Get_on_an_rpc_is_405_with_allow_post()
    {
        var response = await _fixture.CurlAsync(Get, null, null, ["-X", "GET"]);

        Assert.Equal(405, response.Status);
        Assert.Equal("POST", response.Header("Allow"));
        Assert.Equal("operation-not-supported", ErrorTag(response));
    }

    [Fact]
    public async Task Unknown_path_is_404_in_the_restconf_envelope()
    {
        var response = await _fixture.CurlAsync("/restconf/operations/ietf-sztp-bootstrap-server:get-everything", JsonInput, Json);

        Assert.Equal(404, response.Status);
        Assert.StartsWith(Json, response.Header("Content-Type"));
        Assert.Equal("invalid-value", ErrorTag(response));
    }

    [Theory]
    [InlineData("{\"ietf-sztp-bootstrap-server:input\":{\"hw-model\":", Json)]
    [InlineData("{\"ietf-sztp-bootstrap-server:input\":{\"signed-data-preferred\":true}}", Json)]
    [InlineData("<input xmlns=\"urn:ietf:params:xml:ns:yang:ietf-sztp-bootstrap-server\"><hw-model>MX204</input>", Xml)]
    [InlineData("<!DOCTYPE input [<!ENTITY x \"y\">]><input xmlns=\"urn:ietf:params:xml:ns:yang:ietf-sztp-bootstrap-server\"/>", Xml)]
    public async Task Malformed_input_is_400_malformed_message_and_never_reaches_the_answers(string body, string contentType)
    {
        var before = _fixture.Log.Count;

        var response = await _fixture.CurlAsync(Get, body, contentType);

        Assert.Equal(400, response.Status);
        Assert.Equal("malformed-message", ErrorTag(response, contentType == Xml));
        Assert.Equal(before, _fixture.Log.Count);
    }

    [Fact]
    public async Task Unknown_leaf_is_400_unknown_element()
    {
        var response = await _fixture.CurlAsync(Get, """{"ietf-sztp-bootstrap-server:input":{"hw-modell":"MX204"}}""", Json);

        Assert.Equal(400, response.Status);
        Assert.Equal("unknown-element", ErrorTag(response));
        Assert.Contains("hw-modell", ErrorMessage(response));
    }

    [Fact]
    public async Task Too_big_body_is_413_by_content_length_and_when_chunked()
    {
        var big = "{\"ietf-sztp-bootstrap-server:input\":{\"hw-model\":\"" + new string('a', Fixture.MaxRequestBytes + 10) + "\"}}";

        var declared = await _fixture.CurlAsync(Get, big, Json);
        Assert.Equal(413, declared.Status);
        Assert.Equal("too-big", ErrorTag(declared));

        var chunked = await _fixture.CurlAsync(Get, big, Json, ["-H", "Transfer-Encoding: chunked"]);
        Assert.Equal(413, chunked.Status);
        Assert.Equal("too-big", ErrorTag(chunked));

        // And the server still serves the next device.
        Assert.Equal(200, (await _fixture.CurlAsync(Get, JsonInput, Json)).Status);
    }

    [Fact]
    public async Task Device_without_client_certificate_fails_the_tls_handshake()
    {
        var curl = await _fixture.CurlAsync(Get, JsonInput, Json, clientCertificate: false);
        Assert.Equal(0, curl.Status);
        Assert.NotEqual(0, curl.ExitCode);

        // TLS 1.3: the client finishes its side first; the server then drops the connection without serving the request.
        foreach (var version in new[] { "-tls1_2", "-tls1_3" })
        {
            var openssl = await _fixture.OpenSslAsync([version], null, Request(Get, JsonInput));
            Assert.DoesNotContain("HTTP/1.1", openssl.Stdout);
            Assert.True(System.Text.RegularExpressions.Regex.IsMatch(openssl.Stderr, "alert|unexpected eof"), version + ": " + openssl.Stderr);
        }
    }

    [Fact]
    public async Task Tls12_with_rsa_pkcs1_signatures_only_works_for_an_rsa_device()
    {
        var result = await _fixture.OpenSslAsync(["-tls1_2", "-sigalgs", "RSA+SHA256", "-client_sigalgs", "RSA+SHA256"], _fixture.RsaDevice,
            Request(Get, JsonInput));

        Assert.Contains("HTTP/1.1 200", result.Stdout);
        Assert.Contains("Protocol  : TLSv1.2", result.Stdout);
        Assert.Contains("Peer signature type: RSA\n", result.Stdout.ReplaceLineEndings("\n")); // PKCS#1 v1.5, not RSA-PSS
        Assert.Equal("DEV-RSA", DeviceSerial(_fixture.Log.Last(e => DeviceSerial(e.Device) == "DEV-RSA").Device));
    }

    [Fact]
    public async Task Tls13_works()
    {
        var result = await _fixture.OpenSslAsync(["-tls1_3"], _fixture.EcDevice, Request(Get, JsonInput));

        Assert.Contains("HTTP/1.1 200", result.Stdout);
        Assert.Contains("TLSv1.3", result.Stdout);
    }

    [Fact]
    public async Task Tls11_is_refused_by_the_server()
    {
        // SECLEVEL=0 lets this OpenSSL client offer TLS 1.1 at all, so the refusal seen is the server's.
        var result = await _fixture.OpenSslAsync(["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"], _fixture.RsaDevice, Request(Get, JsonInput));

        Assert.DoesNotContain("HTTP/1.1", result.Stdout);
        Assert.DoesNotContain("no protocols available", result.Stderr);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(result.Stderr, "alert protocol version|unsupported protocol|handshake failure"), result.Stderr);
    }

    [Fact]
    public async Task Intermediates_sent_by_the_device_reach_the_answers()
    {
        var response = await _fixture.CurlAsync(Get, JsonInput, Json, device: _fixture.ChainedDevice);

        Assert.Equal(200, response.Status);
        var seen = _fixture.Log.Last(e => DeviceSerial(e.Device) == "DEV-CHAINED").Device;
        Assert.Contains(seen.Intermediates, c => c.Thumbprint == _fixture.Intermediate.Thumbprint);
        Assert.DoesNotContain(seen.Intermediates, c => c.Thumbprint == seen.Certificate.Thumbprint);
    }

    [Fact]
    public async Task Try_later_is_503_with_retry_after()
    {
        var response = await _fixture.CurlAsync(Get, """{"ietf-sztp-bootstrap-server:input":{"hw-model":"busy"}}""", Json);

        Assert.Equal(503, response.Status);
        Assert.Equal("7", response.Header("Retry-After"));
        Assert.Equal("operation-failed", ErrorTag(response));
    }

    [Fact]
    public async Task Host_meta_names_the_restconf_root()
    {
        var response = await _fixture.CurlAsync("/.well-known/host-meta", null, null, ["-X", "GET"]);

        Assert.Equal(200, response.Status);
        Assert.Contains("rel='restconf' href='/restconf'", response.Body);
    }

    [Fact]
    public async Task Exception_in_the_answers_is_500_operation_failed_and_the_next_request_is_served()
    {
        var failed = await _fixture.CurlAsync(Get, """{"ietf-sztp-bootstrap-server:input":{"hw-model":"explode"}}""", Json);

        Assert.Equal(500, failed.Status);
        Assert.Equal("operation-failed", ErrorTag(failed));
        Assert.DoesNotContain("kaboom", failed.Body); // the exception's text stays in the log
        Assert.Equal(200, (await _fixture.CurlAsync(Get, JsonInput, Json)).Status);
    }

    [Fact]
    public async Task Report_progress_is_204_and_reaches_the_answers_with_its_host_keys()
    {
        var body = """{"ietf-sztp-bootstrap-server:input":{"progress-type":"bootstrap-complete","message":"done","ssh-host-keys":{"ssh-host-key":[{"algorithm":"ssh-ed25519","key-data":"AAAAC3NzaC1lZDI1NTE5AAAAIA=="}]}}}""";

        var response = await _fixture.CurlAsync(Report, body, Json);

        Assert.Equal(204, response.Status);
        var report = _fixture.Log.Last(e => e.Report is not null).Report!;
        Assert.Equal(ProgressType.BootstrapComplete, report.ProgressType);
        Assert.Equal("ssh-ed25519", Assert.Single(report.SshHostKeys!).Algorithm);
    }

    private static string Request(string path, string body) =>
        $"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: {Json}\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\nConnection: close\r\n\r\n{body}";

    private static string DeviceSerial(DeviceRequest device) => device.Certificate.GetNameInfo(System.Security.Cryptography.X509Certificates.X509NameType.SimpleName, false);

    private static string ErrorTag(CurlResponse response, bool xml = false) => xml
        ? System.Xml.Linq.XElement.Parse(response.Body).Descendants().First(e => e.Name.LocalName == "error-tag").Value
        : JsonDocument.Parse(response.Body).RootElement.GetProperty("ietf-restconf:errors").GetProperty("error")[0].GetProperty("error-tag").GetString()!;

    private static string ErrorMessage(CurlResponse response) =>
        JsonDocument.Parse(response.Body).RootElement.GetProperty("ietf-restconf:errors").GetProperty("error")[0].GetProperty("error-message").GetString()!;

    public sealed record LoggedCall(DeviceRequest Device, GetBootstrappingDataInput? Input, ReportProgressInput? Report);

    /// <summary>What the answers saw, in order.</summary>
    public sealed class AnswerLog : ConcurrentQueue<LoggedCall>;

    /// <summary>The test's answers: a fixed redirect-information, with hw-model "busy" → 503 and "explode" → an exception.</summary>
    public sealed class TestAnswers(AnswerLog log) : IBootstrapAnswers
    {
        public Task<BootstrapAnswer> GetBootstrappingDataAsync(DeviceRequest device, GetBootstrappingDataInput input, CancellationToken cancellationToken)
        {
            log.Enqueue(new LoggedCall(device, input, null));
            if (input.HwModel == "explode")
                throw new InvalidOperationException("kaboom");
            if (input.HwModel == "busy")
                return Task.FromResult(BootstrapAnswer.TryLater("The owner's NMS is not reachable yet.", "nms-unreachable", TimeSpan.FromSeconds(6.5)));
            var redirect = ConveyedInformationCodec.Encode(new RedirectInformation([new BootstrapServer("nms.example", 8443)]), device.Encoding);
            return Task.FromResult(BootstrapAnswer.Data(new GetBootstrappingDataOutput(SztpCms.EncodeUnsigned(device.Encoding, redirect))));
        }

        public Task<BootstrapAnswer> ReportProgressAsync(DeviceRequest device, ReportProgressInput input, CancellationToken cancellationToken)
        {
            log.Enqueue(new LoggedCall(device, null, input));
            return Task.FromResult(BootstrapAnswer.Recorded);
        }
    }

    public sealed record CurlResponse(int ExitCode, int Status, IReadOnlyDictionary<string, string> Headers, string Body, string Stderr)
    {
        public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
    }

    public sealed class Fixture : IAsyncLifetime, IDisposable
    {
        public const int MaxRequestBytes = 16 * 1024;
        private readonly BootstrapPki _pki = new();
        private TestBootstrapServer? _server;
        private string _serverCa = "";

        public AnswerLog Log { get; } = new();

        public (string Certificate, string Key) EcDevice { get; private set; }

        public (string Certificate, string Key) RsaDevice { get; private set; }

        public (string Certificate, string Key) ChainedDevice { get; private set; }

        public System.Security.Cryptography.X509Certificates.X509Certificate2 Intermediate { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            _serverCa = _pki.WritePem("server-ca", _pki.ServerCa).Certificate;
            EcDevice = _pki.WritePem("dev-ec", BootstrapPki.Device(_pki.FactoryCa, "DEV-EC"));
            RsaDevice = _pki.WritePem("dev-rsa", BootstrapPki.Device(_pki.FactoryCa, "DEV-RSA", rsa: true));
            Intermediate = BootstrapPki.Ca("CN=Bootstrap test factory intermediate", _pki.FactoryCa);
            ChainedDevice = _pki.WritePem("dev-chained", BootstrapPki.Device(Intermediate, "DEV-CHAINED"), Intermediate);
            _server = await TestBootstrapServer.StartAsync<TestAnswers>(_pki.Server(), s => s.AddSingleton(Log), MaxRequestBytes);
        }

        public async Task<CurlResponse> CurlAsync(string path, string? body, string? contentType, IEnumerable<string>? extra = null,
            bool clientCertificate = true, (string Certificate, string Key)? device = null)
        {
            var (certificate, key) = device ?? EcDevice;
            var arguments = new List<string> { "-sS", "-i", "--max-time", "20", "--cacert", _serverCa, "-H", "Expect:" };
            if (clientCertificate)
                arguments.AddRange(["--cert", certificate, "--key", key]);
            if (contentType is not null)
                arguments.AddRange(["-H", $"Content-Type: {contentType}"]);
            if (body is not null)
            {
                var file = Path.Combine(_pki.Directory, $"body-{Guid.NewGuid():N}");
                await File.WriteAllTextAsync(file, body);
                arguments.AddRange(["--data-binary", "@" + file]);
            }
            arguments.AddRange(extra ?? []);
            arguments.Add(new Uri(_server!.BaseUri, path).ToString());
            var result = await ExternalTool.RunAsync("curl", arguments);
            return Parse(result);
        }

        public Task<ExternalTool.Result> OpenSslAsync(IEnumerable<string> options, (string Certificate, string Key)? device, string request)
        {
            var arguments = new List<string> { "s_client", "-connect", $"127.0.0.1:{_server!.Endpoint.Port}", "-servername", "localhost",
                "-CAfile", _serverCa, "-verify_return_error", "-ign_eof" };
            if (device is { } d)
                arguments.AddRange(["-cert", d.Certificate, "-key", d.Key]);
            arguments.AddRange(options);
            return ExternalTool.RunAsync("openssl", arguments, request, TimeSpan.FromSeconds(30));
        }

        private static CurlResponse Parse(ExternalTool.Result result)
        {
            var text = result.Stdout;
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            var status = 0;
            var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (text.StartsWith("HTTP/", StringComparison.Ordinal) && split > 0)
            {
                var lines = text[..split].Split("\r\n");
                status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
                foreach (var line in lines.Skip(1))
                {
                    var colon = line.IndexOf(':', StringComparison.Ordinal);
                    headers[line[..colon]] = line[(colon + 1)..].Trim();
                }
                text = text[(split + 4)..];
            }
            return new CurlResponse(result.ExitCode, status, headers, text, result.Stderr);
        }

        public async Task DisposeAsync()
        {
            if (_server is not null)
                await _server.DisposeAsync();
        }

        // xUnit calls DisposeAsync, then this: the PKI directory is deleted once, here.
        public void Dispose() => _pki.Dispose();
    }
}
