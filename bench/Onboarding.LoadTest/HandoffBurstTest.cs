using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Onboarding.Bootstrap;

namespace Onboarding.LoadTest;

/// <param name="Url">The running host's REST API (both roles: Nms and Redirect).</param>
/// <param name="RedirectPort">The redirect server's device-facing RFC 8572 port (<c>Redirect:Bootstrap:Port</c>).</param>
/// <param name="SftpPort">The NMS drop (<c>Drop:Port</c>); written into the hand-off bundle the redirect server imports.</param>
/// <param name="HostPid">The host's process id, to report its CPU per device (optional).</param>
internal sealed record HandoffBurstSettings(Uri Url, int RedirectPort, int SftpPort, int Devices, int Concurrency, int Parallel, bool Baseline, int TimeoutSeconds, int? HostPid);

/// <summary>
/// Issue 12: a burst of N devices at the redirect server, each handed off to the NMS (batched SFTP files) and bookkept
/// there before it is answered. Everything is set up through the REST APIs of one running host with both roles; the
/// device certificates are generated before the clock starts. Baseline in the same run: N records of the same layout
/// (own serials, so nothing is a re-upload no-op) uploaded to the same NMS drop as N single-record files over one SFTP
/// session, what a manufacturer without batching does.
/// </summary>
internal static class HandoffBurstTest
{
    private const string Body = """{"ietf-sztp-bootstrap-server:input":{"hw-model":"MX204"}}""";

    public static async Task<int> RunAsync(HandoffBurstSettings settings, CancellationToken cancellationToken)
    {
        Report.Header($"handoff-burst url={settings.Url} redirect-port={settings.RedirectPort} sftp-port={settings.SftpPort} devices={settings.Devices} concurrency={settings.Concurrency}");
        var runId = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var setup = Stopwatch.StartNew();
        using var tenant = await NmsTenant.SignUpAsync(settings.Url, "Burst " + runId, "Acme " + runId, cancellationToken);
        var bundle = await HandOffBundleAsync(tenant, settings.SftpPort, cancellationToken);
        var passphrase = bundle["sftp"]!["credential"]!["passphrase"]!.GetValue<string>();

        using var redirect = NmsTenant.CreateClient(settings.Url);
        var signUp = await PostJsonAsync(redirect, "/api/redirect/manufacturers", new { name = "Acme " + runId, contactEmail = "burst@bench.example" }, cancellationToken);
        redirect.DefaultRequestHeaders.Add("X-Manufacturer-Key", signUp.GetProperty("apiKey").GetString());
        var deviceType = await PostJsonAsync(redirect, "/api/redirect/device-types",
            new { name = "MX204", caPem = tenant.Ca.Pem, serial = new { source = "SubjectSerialNumber" } }, cancellationToken);
        var profile = await PostAsync(redirect, "/api/redirect/nms-profiles", new StringContent(bundle.ToJsonString(), Encoding.UTF8, "application/json"), cancellationToken);
        var profileId = profile.GetProperty("id").GetString();
        var typeId = deviceType.GetProperty("id").GetString();

        var serials = Enumerable.Range(0, settings.Devices).Select(i => $"BU{runId}-{i:D6}").ToArray();
        var csv = new StringBuilder("serialNumber,nmsProfileId,deviceTypeId\n");
        foreach (var serial in serials)
            csv.Append(serial).Append(',').Append(profileId).Append(',').Append(typeId).Append('\n');
        var ordered = Stopwatch.StartNew();
        var created = await PostAsync(redirect, "/api/redirect/orders/bulk", new StringContent(csv.ToString(), Encoding.UTF8, "text/csv"), cancellationToken);
        Console.WriteLine($"{created.GetProperty("created").GetInt32()} orders in one bulk call in {ordered.Elapsed.TotalSeconds:0.0} s");

        var server = await redirect.GetFromJsonAsync<JsonElement>("/api/redirect/bootstrap-server", cancellationToken);
        using var anchor = X509Certificate2.CreateFromPem(server.GetProperty("trustAnchorPem").GetString());
        var generate = Stopwatch.StartNew();
        var devices = new SslStreamCertificateContext[serials.Length];
        Parallel.For(0, serials.Length, i =>
        {
            // The context keeps using the certificate (and its key) for every handshake: not disposed here.
            devices[i] = SslStreamCertificateContext.Create(tenant.Ca.IssueDevice(serials[i]), [], offline: true);
        });
        Console.WriteLine($"{devices.Length} device certificates in {generate.Elapsed.TotalSeconds:0.0} s; set-up {setup.Elapsed.TotalSeconds:0.0} s in all; " +
            $"devices call https://127.0.0.1:{settings.RedirectPort} (the host says {server.GetProperty("url").GetString()})");

        var rows = new List<Measurement>();
        var scenario = $"{settings.Devices} devices at the redirect server";
        var burst = await BurstAsync(settings, tenant, devices, anchor, cancellationToken);
        rows.Add(new Measurement(scenario, "ours: redirect server → batched SFTP hand-off → NMS drop", $"raw SslStream devices, -c {settings.Concurrency}",
            burst.AnswersPerSecond, "devices/s", burst.Detail));

        if (settings.Baseline)
        {
            var documents = new byte[settings.Devices][];
            Parallel.For(0, documents.Length, i =>
            {
                var serial = $"BB{runId}-{i:D6}";
                documents[i] = FactoryAuthority.Document([FactoryAuthority.Device(serial, tenant.CustomerId, tenant.Ca.IssueDevicePem(serial))]);
            });
            var before = await SftpRecordsTest.DeviceTotalAsync(tenant.Http, cancellationToken);
            var uploadsBefore = await UploadTotalAsync(tenant, cancellationToken);
            var elapsed = await SftpRecordsTest.UploadToDropAsync(settings.SftpPort, (tenant with { Passphrase = passphrase }).SftpOptions, documents,
                $"bb-{runId}", settings.Parallel, cancellationToken);
            var bookkept = await SftpRecordsTest.DeviceTotalAsync(tenant.Http, cancellationToken) - before;
            var files = await UploadTotalAsync(tenant, cancellationToken) - uploadsBefore;
            rows.Add(new Measurement(scenario, "baseline: the same NMS drop, one record per file, one SFTP session", $"ours (SFTP), {settings.Parallel} files in flight",
                bookkept / elapsed.TotalSeconds, "devices/s",
                $"{bookkept}/{settings.Devices} bookkept (REST total) in {elapsed.TotalSeconds:0.0} s, {files} files, load {Report.LoadAverage()}"));
        }

        Report.Print("handoff-burst", rows, r => r.Server.StartsWith("baseline", StringComparison.Ordinal),
            $"{settings.Devices:N0} devices handed off to the NMS and bookkept in < 30 s");
        return 0;
    }

    private sealed record BurstResult(double AnswersPerSecond, string Detail);

    private static async Task<BurstResult> BurstAsync(HandoffBurstSettings settings, NmsTenant tenant, SslStreamCertificateContext[] devices, X509Certificate2 anchor,
        CancellationToken cancellationToken)
    {
        var devicesBefore = await SftpRecordsTest.DeviceTotalAsync(tenant.Http, cancellationToken);
        var uploadsBefore = await UploadTotalAsync(tenant, cancellationToken);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stop.CancelAfter(TimeSpan.FromSeconds(settings.TimeoutSeconds));

        var hostCpuBefore = HostCpuMilliseconds(settings.HostPid);
        var watch = Stopwatch.StartNew();
        TimeSpan? allBookkept = null;
        var poller = Task.Run(async () =>
        {
            // The NMS's own count, as an operator would watch it; every 250 ms so the poll itself costs the host little.
            while (!stop.IsCancellationRequested)
            {
                if (await SftpRecordsTest.DeviceTotalAsync(tenant.Http, stop.Token) - devicesBefore >= devices.Length)
                {
                    allBookkept = watch.Elapsed;
                    return;
                }
                await Task.Delay(250, stop.Token);
            }
        }, stop.Token);

        var latencies = new double[devices.Length];
        var statuses = new int[600];
        long retried = 0, failed = 0, unavailable = 0, dropped = 0;
        string? firstFailure = null;
        var next = -1;
        var workers = Enumerable.Range(0, settings.Concurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < devices.Length && !stop.IsCancellationRequested)
            {
                for (var attempt = 1; !stop.IsCancellationRequested; attempt++)
                {
                    var start = Stopwatch.GetTimestamp();
                    Answer answer;
                    try
                    {
                        answer = await OneAsync(settings.RedirectPort, devices[i], anchor, stop.Token);
                    }
                    catch (Exception ex) when (ex is IOException or SocketException or AuthenticationException)
                    {
                        answer = new Answer(0, null, ex.Message);
                    }
                    Interlocked.Increment(ref statuses[Math.Clamp(answer.Status, 0, 599)]);
                    if (answer.Status == 200)
                    {
                        latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                        if (attempt > 1)
                            Interlocked.Increment(ref retried);
                        break;
                    }
                    if (answer.Status == 503)
                    {
                        // RFC 8572 §5.3 leaves retrying to the device; ours waits what Retry-After says, as a device should.
                        Interlocked.Increment(ref unavailable);
                        await Task.Delay(TimeSpan.FromSeconds(answer.RetryAfterSeconds ?? 5), stop.Token);
                        continue;
                    }
                    if (answer.Status == 0)
                    {
                        // No HTTP answer (handshake or connection failed): a device tries again shortly.
                        if (Interlocked.Increment(ref dropped) == 1)
                            Console.WriteLine("first connection without an answer: " + answer.Text);
                        await Task.Delay(TimeSpan.FromSeconds(1), stop.Token);
                        continue;
                    }
                    Interlocked.Increment(ref failed);
                    Interlocked.CompareExchange(ref firstFailure, $"{answer.Status}: {answer.Text}", null);
                    latencies[i] = double.NaN;
                    break;
                }
            }
        }, stop.Token)).ToArray();
        try
        {
            await Task.WhenAll(workers);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            Console.WriteLine($"timed out after {settings.TimeoutSeconds} s");
        }
        var allAnswered = watch.Elapsed;
        try
        {
            await poller;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            Console.WriteLine($"not every device bookkept within {settings.TimeoutSeconds} s");
        }

        var hostCpu = HostCpuMilliseconds(settings.HostPid) - hostCpuBefore;
        var bookkept = await SftpRecordsTest.DeviceTotalAsync(tenant.Http, cancellationToken) - devicesBefore;
        var files = await UploadTotalAsync(tenant, cancellationToken) - uploadsBefore;
        var answered = latencies.Where(l => l > 0).Order().ToArray();
        if (firstFailure is not null)
            Console.WriteLine("first failure: " + firstFailure);
        string P(double q) => answered.Length == 0 ? "n/a" : answered[Math.Min(answered.Length - 1, (int)(answered.Length * q))].ToString("0", CultureInfo.InvariantCulture);
        var statusText = string.Join(" ", statuses.Select((n, s) => (n, s)).Where(p => p.n > 0).Select(p => $"{p.s}×{p.n}"));
        var hostText = settings.HostPid is null ? "" : string.Create(CultureInfo.InvariantCulture,
            $"host CPU {hostCpu / Math.Max(1, answered.Length):0.0} ms/device ({hostCpu / AllBookkeptOrAnswered(allBookkept, allAnswered) * 100:0}% of a core); ");
        var detail = string.Create(CultureInfo.InvariantCulture,
            $"{answered.Length}/{devices.Length} answered in {allAnswered.TotalSeconds:0.0} s; all bookkept at the NMS after " +
            $"{(allBookkept is { } b ? $"{b.TotalSeconds:0.0} s" : $"— ({bookkept} after {watch.Elapsed.TotalSeconds:0} s)")}; {files} SFTP files; " +
            $"latency p50 {P(0.5)} ms, p95 {P(0.95)} ms, max {P(1)} ms; 503s {unavailable} ({retried} devices answered on a retry); " +
            $"connections without an answer {dropped} (retried after 1 s); other failures {failed}; status {statusText}; " +
            $"{hostText}load {Report.LoadAverage()}");
        Console.WriteLine(detail);
        return new BurstResult(answered.Length / allAnswered.TotalSeconds, detail);
    }

    private static double AllBookkeptOrAnswered(TimeSpan? bookkept, TimeSpan answered) => (bookkept is { } b && b > answered ? b : answered).TotalMilliseconds;

    /// <summary>User + system CPU of the host process (/proc/&lt;pid&gt;/stat utime + stime, USER_HZ 100); 0 without a pid.</summary>
    private static double HostCpuMilliseconds(int? pid)
    {
        if (pid is null)
            return 0;
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[14 - 3], CultureInfo.InvariantCulture) + long.Parse(fields[15 - 3], CultureInfo.InvariantCulture)) * 10.0;
    }

    private sealed record Answer(int Status, int? RetryAfterSeconds, string Text);

    /// <summary>One device: TCP connect, full TLS handshake with its IDevID (trusting only the redirect server's anchor), one POST, read to the end.</summary>
    private static async Task<Answer> OneAsync(int port, SslStreamCertificateContext device, X509Certificate2 anchor, CancellationToken cancellationToken)
    {
        using var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync("127.0.0.1", port, cancellationToken);
        await using var tls = new SslStream(tcp.GetStream());
        var trust = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck, DisableCertificateDownloads = true };
        trust.CustomTrustStore.Add(anchor);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost", // Redirect:PublicHost, the SAN of the redirect server's TLS certificate
            ClientCertificateContext = device,
            AllowTlsResume = false,
            CertificateChainPolicy = trust,
            RemoteCertificateValidationCallback = (_, _, _, errors) => errors == SslPolicyErrors.None,
        }, cancellationToken);
        var request = Encoding.ASCII.GetBytes(
            $"POST {BootstrapServerEndpoint.GetBootstrappingDataPath} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/yang-data+json\r\n" +
            $"Accept: application/yang-data+json\r\nContent-Length: {Body.Length}\r\nConnection: close\r\n\r\n{Body}");
        await tls.WriteAsync(request, cancellationToken);
        using var response = new MemoryStream();
        await tls.CopyToAsync(response, cancellationToken);
        var text = Encoding.UTF8.GetString(response.GetBuffer(), 0, (int)response.Length);
        var status = text.Length >= 12 && int.TryParse(text.AsSpan(9, 3), CultureInfo.InvariantCulture, out var s) ? s : 0;
        int? retryAfter = null;
        var headerEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        foreach (var line in text[..Math.Max(0, headerEnd)].Split("\r\n"))
        {
            if (line.StartsWith("Retry-After:", StringComparison.OrdinalIgnoreCase)
                && int.TryParse(line.AsSpan(12).Trim(), CultureInfo.InvariantCulture, out var seconds))
                retryAfter = seconds;
        }
        var body = headerEnd < 0 ? "" : text[(headerEnd + 4)..];
        // A 200 must carry the conveyed information (the redirect-information, RFC 8572 §7.1), not just any body.
        if (status == 200 && !body.Contains("conveyed-information", StringComparison.Ordinal))
            return new Answer(0, null, "200 without conveyed-information: " + body[..Math.Min(200, body.Length)]);
        return new Answer(status, retryAfter, body.Length > 300 ? body[..300] : body);
    }

    /// <summary>Rotates the manufacturer's SFTP passphrase at the NMS; the answer is the hand-off bundle carrying it (shown once).</summary>
    internal static async Task<JsonObject> HandOffBundleAsync(NmsTenant tenant, int sftpPort, CancellationToken cancellationToken)
    {
        using var response = await tenant.Http.PostAsync($"/api/manufacturers/{tenant.ManufacturerId}/sftp-passphrase", null, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"sftp-passphrase: {(int)response.StatusCode} {text}");
        var bundle = JsonNode.Parse(text)!.AsObject();
        // The drop's listening port, also when Nms:SftpPort (what the bundle names) was left at its default.
        bundle["sftp"]!["host"] = "127.0.0.1";
        bundle["sftp"]!["port"] = sftpPort;
        return bundle;
    }

    private static async Task<int> UploadTotalAsync(NmsTenant tenant, CancellationToken cancellationToken) =>
        (await tenant.Http.GetFromJsonAsync<JsonElement>($"/api/manufacturers/{tenant.ManufacturerId}/uploads?pageSize=1", cancellationToken))
        .GetProperty("total").GetInt32();

    internal static Task<JsonElement> PostJsonAsync(HttpClient http, string path, object body, CancellationToken cancellationToken) =>
        PostAsync(http, path, JsonContent.Create(body), cancellationToken);

    internal static async Task<JsonElement> PostAsync(HttpClient http, string path, HttpContent content, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsync(path, content, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"POST {path}: {(int)response.StatusCode} {text[..Math.Min(2000, text.Length)]}");
        return JsonDocument.Parse(text).RootElement;
    }
}
