using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Onboarding.IntegrationTests.Infrastructure;

/// <summary>
/// Two real hosts from the one binary: an NMS (<c>Roles=Nms</c>) where a customer registers the manufacturer with its
/// factory CA and rotates the SFTP passphrase, and a redirect server (<c>Roles=Redirect</c>) that imports the resulting
/// hand-off bundle as an NMS profile (its SFTP address pointed at a <see cref="TcpRelay"/> in front of the NMS drop, so a
/// test can take the NMS off the network), with a device type for the same factory CA.
/// </summary>
public class RedirectTwoHosts : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("onboarding-redirect-device-").FullName;

    public OnboardingFactory Nms { get; } = new OnboardingFactory().With("Roles:0", "Nms");

    public RedirectFactory Redirect { get; } = (RedirectFactory)new RedirectFactory()
        .With("Outbox:BaseDelay", "00:00:00.200")
        .With("Outbox:MaxDelay", "00:00:01")
        // Retries at most 1 s apart must not run out while the NMS is kept down for a whole AnswerWithin (8 s): the
        // default 10 attempts took about 8 s here, and a hand-off dead-lettered just before the relay came back up.
        .With("Outbox:MaxAttempts", "1000")
        .With("Outbox:PollInterval", "00:00:00.200")
        .With("Redirect:Handoff:AnswerWithin", "00:00:08")
        .With("Redirect:Handoff:RetryAfter", "00:00:02")
        .With("Redirect:Handoff:IdleTimeout", "00:00:05");

    public ManufacturerSetup Setup { get; private set; } = null!;

    public TcpRelay Relay { get; private set; } = null!;

    public HttpClient Manufacturer { get; private set; } = null!;

    public Guid ProfileId { get; private set; }

    public Guid DeviceTypeId { get; private set; }

    /// <summary>The rotated bundle as the NMS issued it (with the passphrase), SFTP address pointed at the relay.</summary>
    public JsonObject Bundle { get; private set; } = null!;

    public string BootstrapUrl { get; private set; } = "";

    public string TrustAnchorFile { get; private set; } = "";

    public async Task InitializeAsync()
    {
        await Task.WhenAll(Nms.InitializeAsync(), Redirect.InitializeAsync());
        Setup = await ManufacturerSetup.CreateAsync(Nms, "Redirect Flow Telecom");
        var rotated = await Setup.Customer.PostAsync($"/api/manufacturers/{Setup.Credentials.ManufacturerId}/sftp-passphrase", null);
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        Bundle = JsonNode.Parse(await rotated.Content.ReadAsStringAsync())!.AsObject();
        Relay = new TcpRelay(Nms.SftpPort);
        Bundle["sftp"]!["host"] = "127.0.0.1";
        Bundle["sftp"]!["port"] = Relay.Port;

        (Manufacturer, _, _) = await Redirect.SignUpManufacturerAsync("Acme");
        ProfileId = await ImportAsync(Bundle);
        DeviceTypeId = await CreateDeviceTypeAsync("MX204", Setup.Ca.Pem, "SubjectSerialNumber");

        var server = await Manufacturer.GetFromJsonAsync<JsonElement>("/api/redirect/bootstrap-server");
        BootstrapUrl = server.GetProperty("url").GetString()!;
        TrustAnchorFile = Path.Combine(_dir, "redirect-anchor.pem");
        await File.WriteAllTextAsync(TrustAnchorFile, server.GetProperty("trustAnchorPem").GetString());
    }

    public async Task DisposeAsync()
    {
        await Relay.DisposeAsync();
        await Redirect.DisposeAsync();
        await Nms.DisposeAsync();
    }

    public async Task<Guid> ImportAsync(JsonObject bundle)
    {
        var response = await Manufacturer.PostAsync("/api/redirect/nms-profiles",
            new StringContent(bundle.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetGuid();
    }

    public async Task<Guid> CreateDeviceTypeAsync(string name, string caPem, string source, string? pattern = null)
    {
        var response = await Manufacturer.PostAsJsonAsync("/api/redirect/device-types", new { name, caPem, serial = new { source, pattern } });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetGuid();
    }

    public async Task<Guid> OrderAsync(string serial, Guid? profileId = null, Guid? deviceTypeId = null)
    {
        var response = await Manufacturer.PostAsJsonAsync("/api/redirect/orders",
            new { serialNumber = serial, nmsProfileId = (profileId ?? ProfileId).ToString(), deviceTypeId = deviceTypeId?.ToString() });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetGuid();
    }

    public async Task<(string State, IReadOnlyList<string> Timeline)> OrderStateAsync(Guid orderId)
    {
        var detail = await Manufacturer.GetFromJsonAsync<JsonElement>($"/api/redirect/orders/{orderId}");
        return (detail.GetProperty("order").GetProperty("state").GetString()!,
            [.. detail.GetProperty("timeline").EnumerateArray().Select(e => $"{e.GetProperty("state").GetString()}: {e.GetProperty("detail").GetString()}")]);
    }

    /// <summary>The serials the NMS has bookkept for the customer.</summary>
    public async Task<IReadOnlyList<string>> NmsDevicesAsync()
    {
        var page = await Setup.Customer.GetFromJsonAsync<JsonElement>("/api/devices?pageSize=500");
        return [.. page.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("serialNumber").GetString()!)];
    }

    /// <summary>How many files the redirect server uploaded to the NMS drop.</summary>
    public async Task<int> NmsUploadCountAsync()
    {
        var page = await Setup.Customer.GetFromJsonAsync<JsonElement>($"/api/manufacturers/{Setup.Credentials.ManufacturerId}/uploads?pageSize=1");
        return page.GetProperty("total").GetInt32();
    }

    /// <summary>A device's IDevID (certificate and key PEM files, for curl).</summary>
    public (string CertFile, string KeyFile, X509Certificate2 Certificate) Device(string serial, FactoryCa? ca = null, string? subjectSerial = null)
    {
        var certificate = (ca ?? Setup.Ca).IssueDevice(serial, subjectSerial);
        var certFile = Path.Combine(_dir, $"{serial}-{Guid.NewGuid():N}.crt");
        var keyFile = Path.ChangeExtension(certFile, ".key");
        File.WriteAllText(certFile, certificate.ExportCertificatePem());
        using var key = certificate.GetECDsaPrivateKey()!;
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        return (certFile, keyFile, certificate);
    }

    public sealed record CurlAnswer(int Status, string Headers, byte[] Body)
    {
        public string Text => System.Text.Encoding.UTF8.GetString(Body);

        public string? Header(string name) => Headers.Split('\n').Select(l => l.Trim())
            .FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))?[(name.Length + 1)..].Trim();
    }

    /// <summary>The device, played by curl with its client certificate, trusting only the redirect server's anchor.</summary>
    public async Task<CurlAnswer> CurlAsync((string CertFile, string KeyFile, X509Certificate2 Certificate) device, string rpc = "get-bootstrapping-data",
        bool xml = false, string? body = null)
    {
        var id = Guid.NewGuid().ToString("N");
        var bodyFile = Path.Combine(_dir, id + ".body");
        var headerFile = Path.Combine(_dir, id + ".headers");
        var contentType = xml ? "application/yang-data+xml" : "application/yang-data+json";
        body ??= xml
            ? "<input xmlns=\"urn:ietf:params:xml:ns:yang:ietf-sztp-bootstrap-server\"><hw-model>MX204</hw-model></input>"
            : "{\"ietf-sztp-bootstrap-server:input\":{\"hw-model\":\"MX204\"}}";
        var result = await ExternalTool.RunAsync("curl", ["-sS", "--max-time", "30", "--cert", device.CertFile, "--key", device.KeyFile,
            "--cacert", TrustAnchorFile, "-H", $"Content-Type: {contentType}", "-H", $"Accept: {contentType}", "--data-binary", body,
            "-o", bodyFile, "-D", headerFile, "-w", "%{http_code}", $"{BootstrapUrl}/restconf/operations/ietf-sztp-bootstrap-server:{rpc}"]);
        Assert.True(result.ExitCode == 0, $"curl failed: {result.Stderr}");
        return new CurlAnswer(int.Parse(result.Stdout, CultureInfo.InvariantCulture), await File.ReadAllTextAsync(headerFile),
            File.Exists(bodyFile) ? await File.ReadAllBytesAsync(bodyFile) : []);
    }

    /// <summary>
    /// The device as RFC 8572 §5.4 has it behave: a 503 saying the NMS is not reachable yet (the hand-off is still
    /// queued, e.g. on a loaded machine) is retried after Retry-After, for at most <paramref name="within"/>; any other
    /// answer is returned as it is.
    /// </summary>
    public async Task<CurlAnswer> CurlRetryingAsync((string CertFile, string KeyFile, X509Certificate2 Certificate) device, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var answer = await CurlAsync(device);
            if (answer.Status != 503 || !answer.Text.Contains("\"nms-unavailable\"", StringComparison.Ordinal) || DateTime.UtcNow > deadline)
                return answer;
            await Task.Delay(TimeSpan.FromSeconds(int.Parse(answer.Header("Retry-After") ?? "1", CultureInfo.InvariantCulture)));
        }
    }

    public string Write(string name, byte[] content)
    {
        var path = Path.Combine(_dir, $"{Guid.NewGuid():N}-{name}");
        File.WriteAllBytes(path, content);
        return path;
    }

    /// <summary>Waits until the order reaches <paramref name="state"/> (the outbox works in the background).</summary>
    public async Task WaitForStateAsync(Guid orderId, string state, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var (current, timeline) = await OrderStateAsync(orderId);
            if (current == state)
                return;
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"order {orderId} is {current}, not {state}: {string.Join(" | ", timeline)}");
            await Task.Delay(200);
        }
    }
}
