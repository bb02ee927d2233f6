using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

namespace Onboarding.LoadTest;

/// <summary>The timed part of the onboard run: DeviceSim as its own process, the NMS polled, faults fired, CPU per process.</summary>
internal static class OnboardRun
{
    private static readonly string[] ExecIntoLog = ["-c", "exec dotnet \"$@\" >\"$SIM_LOG\" 2>&1", "sh"];

    public sealed record Result(double DevicesPerSecond, string Detail, (bool Ok, string Text) Check, int HostPid);

    public static async Task<Result> RunAsync(OnboardSettings settings, NmsTenant tenant, WebhookReceiver receiver, string work, string anchorFile, int devices,
        Trigger? killAt, Trigger? restartAt, CancellationToken cancellationToken)
    {
        var hostPid = settings.HostPid;
        var ledger = new CpuLedger();
        var simPid = 0;
        void Sample() => ledger.Sample(
        [
            ("host", hostPid, ProcStat.CpuTicks(hostPid)),
            ("postgres", CpuLedger.Postmaster(settings.PgData) ?? 0, ProcStat.ClusterCpuTicks(settings.PgData)),
            ("simulator", simPid, simPid == 0 ? null : ProcStat.CpuTicks(simPid)),
            ("load test", Environment.ProcessId, ProcStat.CpuTicks(Environment.ProcessId)),
        ]);
        var hostRssBefore = ProcStat.RssKib(hostPid);
        Sample();

        var simLog = Path.Combine(work, "devicesim.log");
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        var simArguments = new List<string>
        {
            settings.DeviceSim, "onboard", "-d", work, "-c", settings.Concurrency.ToString(CultureInfo.InvariantCulture),
            "--url", $"https://localhost:{settings.RedirectPort}", "--trust-anchor", anchorFile,
            // A device waits for its record to reach the NMS (503 + Retry-After) and starts over after no answer or a 5xx
            // (a restarting host or database); at call home it never gives up.
            "--retries", "20", "--restarts", "20", "--max-attempts", "0",
            "--callhome-concurrency", settings.Stay ? "0" : settings.CallHomeConcurrency.ToString(CultureInfo.InvariantCulture),
        };
        if (settings.Stay)
            simArguments.Add("--stay");
        foreach (var argument in ExecIntoLog.Concat(simArguments))
            psi.ArgumentList.Add(argument);
        psi.Environment["SIM_LOG"] = simLog;
        psi.Environment["TERM"] = "dumb";
        var watch = Stopwatch.StartNew();
        var startedAt = DateTimeOffset.UtcNow;
        using var sim = Process.Start(psi) ?? throw new InvalidOperationException("DeviceSim did not start");
        simPid = sim.Id;
        Console.WriteLine($"DeviceSim pid {simPid}: dotnet {string.Join(' ', simArguments)} (output in {simLog})");

        TimeSpan? allOnboarded = null, allNotified = null, firstOnboarded = null;
        var roles = new[] { "host", "postgres", "simulator", "load test" };
        double[]? cpuAtFirstOnboarded = null;
        int onboarded = 0, lastPrinted = -1;
        long simPeakRssKib = 0;
        var events = new List<string>();
        var limit = TimeSpan.FromSeconds(settings.TimeoutSeconds);
        var lastLine = TimeSpan.Zero;
        string? pollError = null;
        while (watch.Elapsed < limit && !cancellationToken.IsCancellationRequested)
        {
            try
            {
                onboarded = (await tenant.Http.GetFromJsonAsync<JsonElement>("/api/devices?state=Onboarded&pageSize=1", cancellationToken)).GetProperty("total").GetInt32();
            }
            catch (HttpRequestException ex)
            {
                pollError = ex.Message; // the host is down (killed) or its database restarting: keep polling
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                pollError = "poll timed out";
            }
            Sample();
            simPeakRssKib = Math.Max(simPeakRssKib, ProcStat.RssKib(simPid));
            if (onboarded > 0 && firstOnboarded is null)
            {
                // DeviceSim onboard calls home only after every device bootstrapped: this splits the CPU into the bootstrap
                // phase (redirect, hand-off, NMS bootstrap) and the call-home phase (call home, pre-configuration, notify).
                firstOnboarded = watch.Elapsed;
                cpuAtFirstOnboarded = roles.Select(ledger.Milliseconds).ToArray();
            }
            if (onboarded >= devices && allOnboarded is null)
                allOnboarded = watch.Elapsed;
            if (receiver.NotifiedDevices >= devices && allNotified is null)
                allNotified = watch.Elapsed;
            if (allOnboarded is not null && allNotified is not null)
                break;

            if (killAt?.Due(watch.Elapsed, onboarded, devices) == true)
            {
                killAt = null;
                events.Add($"host killed at {watch.Elapsed.TotalSeconds:0.0} s ({onboarded} Onboarded)");
                Sample(); // the old host's CPU up to its end
                hostPid = await HostControl.KillAndRestartAsync(hostPid, Path.Combine(work, "host-restarted.log"), cancellationToken);
            }
            if (restartAt?.Due(watch.Elapsed, onboarded, devices) == true)
            {
                restartAt = null;
                events.Add($"PostgreSQL restarted at {watch.Elapsed.TotalSeconds:0.0} s ({onboarded} Onboarded)");
                Sample();
                await HostControl.RestartPostgresAsync(settings.PgCtl, settings.PgData, cancellationToken);
            }
            if (watch.Elapsed - lastLine >= TimeSpan.FromSeconds(5) || (onboarded != lastPrinted && onboarded >= devices))
            {
                lastLine = watch.Elapsed;
                lastPrinted = onboarded;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{watch.Elapsed.TotalSeconds,6:0.0} s: {onboarded} Onboarded, {receiver.NotifiedDevices} notified, DeviceSim {(sim.HasExited ? $"exited {sim.ExitCode}" : "running")}, " +
                    $"host {(HostControl.Alive(hostPid) ? "up" : "down")}, load {Report.LoadAverage()}{(pollError is null ? "" : "; last poll error: " + pollError)}"));
                pollError = null;
            }
            await Task.Delay(250, cancellationToken);
        }
        var end = watch.Elapsed;
        Sample();
        // What the held call-home sessions cost (with --stay every device keeps its session after onboarding).
        var hostRssAfter = ProcStat.RssKib(hostPid);
        var simRss = ProcStat.RssKib(simPid);
        int? listed = null;
        try
        {
            listed = (await tenant.Http.GetFromJsonAsync<JsonElement>("/api/callhome/sessions", cancellationToken)).GetArrayLength();
        }
        catch (Exception ex) when (ex is HttpRequestException or KeyNotFoundException or InvalidOperationException or JsonException)
        {
            Console.WriteLine("GET /api/callhome/sessions: " + ex.Message);
        }
        await StopAsync(sim);
        Console.WriteLine("DeviceSim's last lines:");
        foreach (var line in File.ReadLines(simLog).Where(l => l.Trim().Length > 0).TakeLast(12))
            Console.WriteLine("  " + line);

        var done = allOnboarded is not null && allNotified is not null;
        // Per device Onboarded; when none got that far, per device started (a lower bound of what one would cost).
        var perDevices = onboarded > 0 ? Math.Min(onboarded, devices) : devices;
        double Per(string role) => ledger.Milliseconds(role) / perDevices;
        var hostRssText = hostPid == settings.HostPid
            ? string.Create(CultureInfo.InvariantCulture, $"host RSS {hostRssBefore / 1024.0:0} → {hostRssAfter / 1024.0:0} MiB ({(hostRssAfter - hostRssBefore) / (double)Math.Max(1, devices):0.0} KiB/device), ")
            : string.Create(CultureInfo.InvariantCulture, $"restarted host's RSS {hostRssAfter / 1024.0:0} MiB ({hostRssAfter / (double)Math.Max(1, devices):0.0} KiB/device, its start-up included), ");
        var detail = string.Create(CultureInfo.InvariantCulture,
            $"{onboarded}/{devices} Onboarded {(allOnboarded is { } o ? $"after {o.TotalSeconds:0.0} s" : "— not all")}, {receiver.NotifiedDevices} notified " +
            $"{(allNotified is { } n ? $"after {n.TotalSeconds:0.0} s" : "— not all")} (from DeviceSim's start, its start-up and {devices} IDevID loads included); " +
            $"CPU ms/device ({(onboarded > 0 ? "per device Onboarded" : "per device started, none Onboarded")}): host {Per("host"):0.00}, PostgreSQL {Per("postgres"):0.00}, simulator {Per("simulator"):0.00}, load test {Per("load test"):0.00} " +
            $"(over {end.TotalSeconds:0.0} s: host {ledger.Milliseconds("host") / end.TotalMilliseconds * 100:0}% of a core, PostgreSQL {ledger.Milliseconds("postgres") / end.TotalMilliseconds * 100:0}%, " +
            $"simulator {ledger.Milliseconds("simulator") / end.TotalMilliseconds * 100:0}%); " +
            $"held: {(listed is { } l ? $"{l} call-home sessions listed" : "sessions not listed")}, " +
            $"{hostRssText}" +
            $"simulator RSS {simRss / 1024.0:0} MiB " +
            $"({simRss / (double)Math.Max(1, devices):0.0} KiB/device, peak {simPeakRssKib / 1024.0:0} MiB); " +
            $"{(events.Count == 0 ? "" : string.Join("; ", events) + "; ")}started {startedAt:HH:mm:ss}, load {Report.LoadAverage()}");
        Console.WriteLine(detail);
        if (cpuAtFirstOnboarded is not null)
        {
            var before = string.Join(", ", roles.Select((r, i) => string.Create(CultureInfo.InvariantCulture, $"{r} {cpuAtFirstOnboarded[i] / devices:0.00}")));
            var after = string.Join(", ", roles.Select((r, i) => string.Create(CultureInfo.InvariantCulture, $"{r} {(ledger.Milliseconds(r) - cpuAtFirstOnboarded[i]) / devices:0.00}")));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"CPU ms/device until the first device was Onboarded at {firstOnboarded!.Value.TotalSeconds:0.0} s (bootstrap phase): {before}; ") +
                $"after it (call home, pre-configuration, notifications): {after}");
        }
        var reached = allNotified is { } t && allOnboarded is { } u ? (t > u ? t : u) : end;
        return new Result(done ? devices / reached.TotalSeconds : 0, detail,
            (done, done ? $"all {devices} devices Onboarded and notified within the bound ({settings.TimeoutSeconds} s)"
                : $"after {end.TotalSeconds:0} s (bound {settings.TimeoutSeconds} s) only {onboarded}/{devices} Onboarded and {receiver.NotifiedDevices} notified"),
            hostPid);
    }

    /// <summary>SIGINT (DeviceSim ends every device and prints its summary), then SIGKILL after 30 s.</summary>
    private static async Task StopAsync(Process sim)
    {
        if (sim.HasExited)
            return;
        using (var interrupt = Process.Start("kill", ["-INT", sim.Id.ToString(CultureInfo.InvariantCulture)]))
            await interrupt.WaitForExitAsync();
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await sim.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            sim.Kill();
            await sim.WaitForExitAsync();
        }
    }
}
