using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Onboarding.LoadTest;

/// <param name="Url">The running host's REST API (roles Nms and Redirect, loopback webhooks allowed).</param>
/// <param name="DeviceSim">Onboarding.DeviceSim.dll, run as a process of its own (its CPU apart from the host's).</param>
/// <param name="KillHostAt">"12s" (seconds after the devices start) or "0.3" (fraction of devices Onboarded): kill -9 the host and start it again.</param>
/// <param name="RestartPostgresAt">The same kind of trigger for <c>pg_ctl restart -m fast</c> of the host's cluster.</param>
internal sealed record OnboardSettings(Uri Url, int RedirectPort, int SftpPort, int Devices, int Concurrency, bool Stay, int CallHomeConcurrency,
    int HostPid, string PgData, string PgCtl, string DeviceSim, string? KillHostAt, string? RestartPostgresAt, int TimeoutSeconds,
    bool Baseline, int BaselineSessions, string WorkDirectory, string NmsKeyFile);

/// <summary>
/// Issue 14: the whole flow at scale. Set-up through the REST APIs (not timed): a customer and its manufacturer with a
/// throwaway factory CA, the hand-off bundle, the manufacturer at the redirect server with the device type, the NMS
/// profile and N orders in one bulk call, a pre-configuration template, and a webhook to <see cref="WebhookReceiver"/>.
/// Timed: DeviceSim <c>onboard</c> (a separate process) takes N devices from power-on through redirect, NMS bootstrap,
/// bootstrap-complete and call home to Onboarded; the clock stops when the NMS lists N devices Onboarded and the
/// receiver has a notification for each. Then every device's NMS timeline and redirect order timeline are read for
/// per-stage latencies and the checks (each device Onboarded once, notified once).
/// </summary>
internal static class OnboardTest
{
    public static async Task<int> RunAsync(OnboardSettings settings, CancellationToken cancellationToken)
    {
        Report.Header($"onboard url={settings.Url} devices={settings.Devices} concurrency={settings.Concurrency} stay={settings.Stay} " +
            $"kill-host-at={settings.KillHostAt ?? "-"} restart-postgres-at={settings.RestartPostgresAt ?? "-"}");
        var killAt = Trigger.Parse(settings.KillHostAt, "--kill-host-at");
        var restartAt = Trigger.Parse(settings.RestartPostgresAt, "--restart-postgres-at");
        if (!File.Exists(settings.DeviceSim))
            throw new FileNotFoundException($"{settings.DeviceSim} not found: dotnet build -c Release tools/Onboarding.DeviceSim");
        var runId = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var work = Directory.CreateDirectory(Path.Combine(Path.GetFullPath(settings.WorkDirectory), "onboard-" + runId)).FullName;

        var setup = Stopwatch.StartNew();
        using var tenant = await NmsTenant.SignUpAsync(settings.Url, "Onboard " + runId, "Acme " + runId, cancellationToken);
        var bundle = await HandoffBurstTest.HandOffBundleAsync(tenant, settings.SftpPort, cancellationToken);
        using var redirect = NmsTenant.CreateClient(settings.Url);
        var signUp = await HandoffBurstTest.PostJsonAsync(redirect, "/api/redirect/manufacturers", new { name = "Acme " + runId, contactEmail = "onboard@bench.example" }, cancellationToken);
        redirect.DefaultRequestHeaders.Add("X-Manufacturer-Key", signUp.GetProperty("apiKey").GetString());
        var deviceType = await HandoffBurstTest.PostJsonAsync(redirect, "/api/redirect/device-types",
            new { name = "MX204", caPem = tenant.Ca.Pem, serial = new { source = "SubjectSerialNumber" } }, cancellationToken);
        var profile = await HandoffBurstTest.PostAsync(redirect, "/api/redirect/nms-profiles", new StringContent(bundle.ToJsonString(), Encoding.UTF8, "application/json"), cancellationToken);
        var profileId = profile.GetProperty("id").GetString()!;
        var serials = Enumerable.Range(0, settings.Devices).Select(i => $"ON{runId}-{i:D6}").ToArray();
        var csv = new StringBuilder("serialNumber,nmsProfileId,deviceTypeId\n");
        foreach (var serial in serials)
            csv.Append(serial).Append(',').Append(profileId).Append(',').Append(deviceType.GetProperty("id").GetString()).Append('\n');
        var created = await HandoffBurstTest.PostAsync(redirect, "/api/redirect/orders/bulk", new StringContent(csv.ToString(), Encoding.UTF8, "text/csv"), cancellationToken);

        // The customer's pre-configuration for the model (the device type's name reaches the NMS as the bookkept model).
        using (var template = await tenant.Http.PutAsJsonAsync("/api/preconfiguration/templates/MX204", new
        {
            kind = "netconf",
            body = "<config><system xmlns=\"urn:ietf:params:xml:ns:yang:ietf-system\"><hostname>{{serial}}</hostname><contact>{{customer}}</contact></system></config>",
        }, cancellationToken))
            template.EnsureSuccessStatusCode();
        await using var receiver = await WebhookReceiver.StartAsync();
        using (var webhook = await tenant.Http.PutAsJsonAsync("/api/notifications/webhook", new { url = $"http://127.0.0.1:{receiver.Port}/hook" }, cancellationToken))
        {
            var text = await webhook.Content.ReadAsStringAsync(cancellationToken);
            if (!webhook.IsSuccessStatusCode)
                throw new InvalidOperationException($"PUT /api/notifications/webhook: {(int)webhook.StatusCode} {text} (start the host with Notifications__AllowHttpWebhooks=true Notifications__AllowPrivateNetworkWebhooks=true)");
            receiver.Secret = JsonNode.Parse(text)!["secret"]!.GetValue<string>();
        }

        // What the factory builds into each device: its IDevID (certificate + key, as DeviceSim mint writes them) and the
        // redirect server's trust anchor.
        var server = await redirect.GetFromJsonAsync<JsonElement>("/api/redirect/bootstrap-server", cancellationToken);
        var anchorFile = Path.Combine(work, "redirect-ca.pem");
        await File.WriteAllTextAsync(anchorFile, server.GetProperty("trustAnchorPem").GetString(), cancellationToken);
        Directory.CreateDirectory(Path.Combine(work, "devices"));
        await File.WriteAllTextAsync(Path.Combine(work, "factory-ca.pem"), tenant.Ca.Pem, cancellationToken);
        var generate = Stopwatch.StartNew();
        Parallel.For(0, serials.Length, i =>
        {
            using var device = tenant.Ca.IssueDevice(serials[i]);
            using var key = device.GetECDsaPrivateKey()!;
            File.WriteAllText(Path.Combine(work, "devices", serials[i] + ".pem"), device.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem() + "\n");
        });
        Console.WriteLine($"{created.GetProperty("created").GetInt32()} orders in one bulk call; {serials.Length} IDevIDs in {generate.Elapsed.TotalSeconds:0.0} s; " +
            $"set-up {setup.Elapsed.TotalSeconds:0.0} s; devices in {work}");

        var settled = await SettledAsync(settings.HostPid, TimeSpan.FromSeconds(30), cancellationToken);
        Console.WriteLine($"host quiet after {settled.TotalSeconds:0} s; load {Report.LoadAverage()}");
        var run = await OnboardRun.RunAsync(settings, tenant, receiver, work, anchorFile, serials.Length, killAt, restartAt, cancellationToken);

        var timelines = await OnboardTimelines.ReadAsync(tenant.Http, redirect, profileId, cancellationToken);
        var analysis = OnboardTimelines.Analyse(timelines, receiver, serials);
        var rows = new List<Measurement>
        {
            new("N devices power-on → Onboarded + notified", "ours: redirect → NMS bootstrap → call home → pre-configuration → webhook",
                $"DeviceSim onboard (own process), -c {settings.Concurrency}{(settings.Stay ? ", --stay" : "")}", run.DevicesPerSecond, "devices/s", run.Detail),
        };
        if (settings.Baseline)
            rows.AddRange(await OnboardBaseline.RunAsync(settings, tenant.Ca, serials, cancellationToken));
        foreach (var row in rows.Skip(1))
            Console.WriteLine($"{row.Server} [{row.Scenario}]: {row.Value.ToString("N1", CultureInfo.InvariantCulture)} {row.Unit}; {row.Detail}");
        Report.Print("onboard", rows, r => r.Server.StartsWith("baseline", StringComparison.Ordinal),
            $"{settings.Devices:N0} devices from power-on to Onboarded in < 60 s (aim 20 s)");
        foreach (var line in analysis.Stages)
            Console.WriteLine(line);
        var failed = 0;
        foreach (var (ok, text) in analysis.Checks.Append(run.Check))
        {
            Console.WriteLine($"{(ok ? "PASS" : "FAIL")}  {text}");
            failed += ok ? 0 : 1;
        }
        if (run.HostPid != settings.HostPid)
            Console.WriteLine($"the restarted host is pid {run.HostPid} (not a child of your shell): stop it with `kill {run.HostPid}`");
        return failed == 0 ? 0 : 1;
    }

    /// <summary>Waits until the host used under 2 % of a core for a whole second (the set-up's JIT and background work done).</summary>
    private static async Task<TimeSpan> SettledAsync(int pid, TimeSpan limit, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var before = ProcStat.CpuTicks(pid) ?? 0;
        while (watch.Elapsed < limit)
        {
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            var now = ProcStat.CpuTicks(pid) ?? 0;
            if ((now - before) / ProcStat.TicksPerSecond < 0.02)
                break;
            before = now;
        }
        return watch.Elapsed;
    }
}

/// <summary>When a fault fires: seconds after the devices start, or once a fraction of the devices is Onboarded.</summary>
internal sealed record Trigger(double? Seconds, double? OnboardedFraction)
{
    public static Trigger? Parse(string? text, string option)
    {
        if (string.IsNullOrWhiteSpace(text))
            return null;
        if (text.EndsWith('s') && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
            return new Trigger(seconds, null);
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var fraction) && fraction is > 0 and < 1)
            return new Trigger(null, fraction);
        throw new ArgumentException($"{option} '{text}': give seconds ('12s') or a fraction of devices Onboarded (0 < f < 1)");
    }

    public bool Due(TimeSpan elapsed, int onboarded, int devices) =>
        Seconds is { } s ? elapsed.TotalSeconds >= s : onboarded >= OnboardedFraction!.Value * devices;

    public override string ToString() => Seconds is { } s ? $"{s:0.#} s" : $"{OnboardedFraction:0.##} of devices Onboarded";
}
