using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Onboarding.Ssh;
using Onboarding.Ssh.Keys;

namespace Onboarding.LoadTest;

/// <param name="PgData">The host's PostgreSQL data directory (its postmaster.pid names the cluster whose CPU is counted).</param>
/// <param name="NmsKeyFile">The host's call-home client key (the devices authorize its public half).</param>
/// <param name="ServerAliveInterval">The baseline ssh's ServerAliveInterval; set it to the host's keepalive interval to compare like with like.</param>
/// <param name="HostKeepaliveSeconds">The host's <c>Nms:CallHome:KeepaliveInterval</c> as it was started (0: not stated); the tool cannot read it.</param>
internal sealed record CallHomeSettings(Uri Url, int SftpPort, int CallHomePort, int Devices, int Concurrency, int IdleSeconds, int? HostPid,
    string PgData, string NmsKeyFile, string UserName, int BaselineSessions, int ServerAliveInterval, int HostKeepaliveSeconds, int TimeoutSeconds);

/// <summary>
/// Issue 13: call-home sessions established and authenticated per second against a RUNNING host, and the cost of holding
/// them idle. Set-up (not timed): a customer, a manufacturer with a throwaway factory CA, N device records with P-256
/// IDevIDs bookkept through the SFTP drop. Each device then uses its IDevID key as its SSH host key (a Bookkept device is
/// identified by it) and calls home, <see cref="CallHomeSettings.Concurrency"/> at a time. Timed: connect until the device
/// saw the NMS's userauth succeed, and until the host lists all N in GET /api/callhome/sessions. Then all N are held idle
/// for <see cref="CallHomeSettings.IdleSeconds"/> while the host's RSS and CPU are read from /proc. Baseline in the same
/// run: <see cref="CallHomeBaseline"/> (OpenSSH's ssh client, one process per session, against the same kind of device).
/// </summary>
internal static class CallHomeTest
{
    public static async Task<int> RunAsync(CallHomeSettings settings, CancellationToken cancellationToken)
    {
        Report.Header($"callhome url={settings.Url} callhome-port={settings.CallHomePort} devices={settings.Devices} concurrency={settings.Concurrency} " +
            $"idle={settings.IdleSeconds}s baseline-sessions={settings.BaselineSessions} ServerAliveInterval={settings.ServerAliveInterval} host-keepalive={settings.HostKeepaliveSeconds}s");
        var rows = new List<Measurement>();
        if (settings.Devices > 0)
        {
            using var nmsKey = SshHostKey.ParseOpenSshPrivateKey(await File.ReadAllTextAsync(settings.NmsKeyFile, cancellationToken));
            rows.AddRange(await OursAsync(settings, nmsKey.PublicKey, cancellationToken));
        }

        if (settings.BaselineSessions > 0)
        {
            rows.AddRange(await CallHomeBaseline.RunAsync(settings, cancellationToken));
            rows.AddRange(await CallHomeBaseline.OurClientAsync(settings, cancellationToken));
        }
        Report.Print("callhome", rows, r => r.Server.StartsWith("baseline", StringComparison.Ordinal),
            "issue 13 sets no figure: sessions/s, host CPU per session, idle RSS and CPU per session, against OpenSSH ssh (lower is better for memory and CPU)");
        return 0;
    }

    private static async Task<IReadOnlyList<Measurement>> OursAsync(CallHomeSettings settings, SshPublicKey nmsKey, CancellationToken cancellationToken)
    {
        var n = settings.Devices;
        var runId = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var tenant = await NmsTenant.SignUpAsync(settings.Url, "CallHome " + runId, "Acme " + runId, cancellationToken);

        var generate = Stopwatch.StartNew();
        var hostKeys = new SshHostKey[n];
        var records = new string[n];
        Parallel.For(0, n, i =>
        {
            var serial = $"CH{runId}-{i:D6}";
            using var idevid = tenant.Ca.IssueDevice(serial);
            hostKeys[i] = CallHomeDevices.HostKeyOf(idevid);
            records[i] = FactoryAuthority.Device(serial, tenant.CustomerId, idevid.ExportCertificatePem());
        });
        var documents = records.Chunk(100).Select(FactoryAuthority.Document).ToArray();
        Console.WriteLine($"generated {n} P-256 IDevIDs and records in {generate.Elapsed.TotalSeconds:0.0} s");
        var before = await SftpRecordsTest.DeviceTotalAsync(tenant.Http, cancellationToken);
        var upload = await SftpRecordsTest.UploadToDropAsync(settings.SftpPort, tenant.SftpOptions, documents, $"ch-{runId}", 8, cancellationToken);
        var bookkept = await SftpRecordsTest.DeviceTotalAsync(tenant.Http, cancellationToken) - before;
        Console.WriteLine($"bookkept {bookkept}/{n} devices through the drop in {upload.TotalSeconds:0.0} s ({documents.Length} files)");
        if (bookkept != n)
            throw new InvalidOperationException($"only {bookkept} of {n} records were bookkept; see the host's log");

        var settled = await HostSettledAsync(settings.HostPid, cancellationToken);
        // The host's own background (outbox poller, timers, tiered JIT) over as long as the idle phase will last, without
        // sessions: the idle phase's CPU minus this is what the held sessions cost.
        var quiet = Snapshot(settings);
        await Task.Delay(TimeSpan.FromSeconds(settings.IdleSeconds), cancellationToken);
        var start = Snapshot(settings);
        var backgroundMsPerSecond = (start.HostTicks - quiet.HostTicks) / ProcStat.TicksPerSecond * 1000 / (start.At - quiet.At).TotalSeconds;
        var managedBefore = GC.GetTotalMemory(forceFullCollection: true);
        Console.WriteLine($"host settled after {settled.TotalSeconds:0} s; its background without sessions {backgroundMsPerSecond:0.0} ms CPU/s; host RSS {start.HostRssKib / 1024.0:0.0} MiB, private {start.HostPrivateKib / 1024.0:0.0} MiB; load {Report.LoadAverage()}");

        // Timed: N devices call home, Concurrency dialling at once; a device's slot is free once the NMS is logged in.
        var sessions = new SshServerSession?[n];
        var latencies = new double[n];
        var failures = 0;
        var next = -1;
        var watch = Stopwatch.StartNew();
        using var progress = Progress(() => $"ours: {sessions.Count(s => s is not null)}/{n} authenticated, {Volatile.Read(ref failures)} failed, {watch.Elapsed.TotalSeconds:0} s, load {Report.LoadAverage()}");
        await Task.WhenAll(Enumerable.Range(0, Math.Min(settings.Concurrency, n)).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < n)
            {
                var started = Stopwatch.GetTimestamp();
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(settings.TimeoutSeconds));
                try
                {
                    sessions[i] = await CallHomeDevices.CallHomeAsync(settings.CallHomePort,
                        CallHomeDevices.Options(hostKeys[i], nmsKey, settings.UserName), timeout.Token);
                    latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                }
                catch (Exception ex) when (ex is SshProtocolException or SshAuthenticationException or SshConnectionLostException or IOException
                    or System.Net.Sockets.SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    if (Interlocked.Increment(ref failures) <= 3)
                        await Console.Error.WriteLineAsync($"device {i}: {ex.GetType().Name}: {ex.Message}");
                }
            }
        }, cancellationToken)));
        var authenticatedAt = watch.Elapsed;
        var authenticated = n - failures;

        // The host lists a session after its lifecycle step (Bookkept → CalledHome) and the registry: poll until all are there.
        var listed = 0;
        var listDeadline = authenticatedAt + TimeSpan.FromSeconds(settings.TimeoutSeconds);
        while ((listed = await ListedAsync(tenant.Http, cancellationToken)) < authenticated && watch.Elapsed < listDeadline)
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        var listedAt = watch.Elapsed;
        var established = Snapshot(settings);
        var managedEstablished = GC.GetTotalMemory(forceFullCollection: true);
        progress.Dispose();
        Console.WriteLine($"ours: {authenticated}/{n} authenticated in {authenticatedAt.TotalSeconds:0.0} s, {listed} listed at {listedAt.TotalSeconds:0.0} s; " +
            $"host RSS {established.HostRssKib / 1024.0:0.0} MiB, private {established.HostPrivateKib / 1024.0:0.0} MiB; load {Report.LoadAverage()}");

        // Idle: only the host's keepalives (every HostKeepaliveSeconds) and the devices' answers cross, so this is what
        // holding the sessions costs.
        await Task.Delay(TimeSpan.FromSeconds(settings.IdleSeconds), cancellationToken);
        var idle = Snapshot(settings);
        var alive = sessions.Count(s => s is { Completion.IsCompleted: false });
        var listedAfterIdle = await ListedAsync(tenant.Http, cancellationToken);
        var managedIdle = GC.GetTotalMemory(forceFullCollection: true);
        Console.WriteLine($"ours: after {settings.IdleSeconds} s idle {alive} device sessions alive, {listedAfterIdle} listed; host RSS {idle.HostRssKib / 1024.0:0.0} MiB, private {idle.HostPrivateKib / 1024.0:0.0} MiB; load {Report.LoadAverage()}");

        await Task.WhenAll(sessions.Where(s => s is not null).Select(s => s!.DisposeAsync().AsTask()));
        foreach (var key in hostKeys)
            key.Dispose();

        var ok = latencies.Where((_, i) => sessions[i] is not null).Order().ToArray();
        var scenarioEstablish = "establish + authenticate";
        var scenarioMemory = "idle memory per session";
        var scenarioCpu = "idle CPU";
        var idleSeconds = (idle.At - established.At).TotalSeconds;
        var idleMsPerSecond = (idle.HostTicks - established.HostTicks) / ProcStat.TicksPerSecond * 1000 / idleSeconds;
        var keepalivesPerSecond = settings.HostKeepaliveSeconds > 0 ? alive / (double)settings.HostKeepaliveSeconds : 0;
        var perKeepalive = keepalivesPerSecond > 0
            ? $"{(idleMsPerSecond - backgroundMsPerSecond) * 1000 / keepalivesPerSecond:0.0} µs of host CPU per keepalive round trip ({keepalivesPerSecond:0} keepalives/s)"
            : "keepalive interval not stated (--host-keepalive-seconds)";
        return
        [
            new Measurement(scenarioEstablish, "ours: host call-home listener", "our SshServerSession devices",
                authenticated / authenticatedAt.TotalSeconds, "sessions/s",
                $"{authenticated}/{n} ok, {failures} failed, c={settings.Concurrency}; all listed at {listedAt.TotalSeconds:0.0} s ({listed / listedAt.TotalSeconds:0.0}/s); " +
                $"latency p50 {Percentile(ok, 0.5):0} ms p95 {Percentile(ok, 0.95):0} ms max {Percentile(ok, 1):0} ms; " +
                $"CPU/session: host {CpuMs(start.HostTicks, established.HostTicks, authenticated)}, postgres {CpuMs(start.PgTicks, established.PgTicks, authenticated)}, " +
                $"load-test devices {(established.SelfCpu - start.SelfCpu).TotalMilliseconds / Math.Max(1, authenticated):0.00} ms"),
            new Measurement(scenarioMemory, "ours: host call-home listener", "our SshServerSession devices",
                (idle.HostRssKib - start.HostRssKib) / (double)Math.Max(1, authenticated), "KiB",
                $"host RSS {start.HostRssKib / 1024.0:0} → {established.HostRssKib / 1024.0:0} (established) → {idle.HostRssKib / 1024.0:0} MiB (after idle; uncollected garbage included); " +
                $"host private {start.HostPrivateKib / 1024.0:0} → {idle.HostPrivateKib / 1024.0:0} MiB = {(idle.HostPrivateKib - start.HostPrivateKib) / (double)Math.Max(1, authenticated):0.0} KiB/session; " +
                $"device side (this process, managed heap after full GC): {(managedEstablished - managedBefore) / 1024.0 / Math.Max(1, authenticated):0.0} KiB/session established, " +
                $"{(managedIdle - managedBefore) / 1024.0 / Math.Max(1, authenticated):0.0} after idle"),
            new Measurement(scenarioCpu, "ours: host call-home listener", "our SshServerSession devices",
                idleMsPerSecond - backgroundMsPerSecond, "ms CPU/s",
                $"host above its no-session background: {alive} sessions held {idleSeconds:0} s, host keepalive every {settings.HostKeepaliveSeconds} s; {perKeepalive}; host {idleMsPerSecond:0.0} ms/s with them, " +
                $"{backgroundMsPerSecond:0.0} without (before the burst); {(idleMsPerSecond - backgroundMsPerSecond) / Math.Max(1, alive) * 1000:0.00} µs/s per session; " +
                $"postgres {(idle.PgTicks - established.PgTicks) / ProcStat.TicksPerSecond * 1000 / idleSeconds:0.0} ms/s; {listedAfterIdle} still listed"),
        ];
    }

    private sealed record Sample(DateTimeOffset At, long HostTicks, long HostRssKib, long HostPrivateKib, long PgTicks, TimeSpan SelfCpu);

    private static Sample Snapshot(CallHomeSettings settings) => new(DateTimeOffset.UtcNow,
        settings.HostPid is { } pid ? ProcStat.CpuTicks(pid) ?? 0 : 0,
        settings.HostPid is { } p ? ProcStat.RssKib(p) : 0,
        settings.HostPid is { } q ? ProcStat.PrivateKib(q) : 0,
        ProcStat.ClusterCpuTicks(settings.PgData) ?? 0,
        Process.GetCurrentProcess().TotalProcessorTime);

    private static string CpuMs(long before, long after, int sessions) =>
        after == 0 ? "n/a" : $"{(after - before) / ProcStat.TicksPerSecond * 1000 / Math.Max(1, sessions):0.00} ms";

    internal static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static async Task<int> ListedAsync(HttpClient http, CancellationToken cancellationToken) =>
        (await http.GetFromJsonAsync<JsonElement>("/api/callhome/sessions", cancellationToken)).GetArrayLength();

    /// <summary>Waits until the host used under 2 % of a core for a whole second (at most 60 s): the set-up's JIT and drop work are done.</summary>
    private static async Task<TimeSpan> HostSettledAsync(int? hostPid, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        if (hostPid is not { } pid)
            return watch.Elapsed;
        var before = ProcStat.CpuTicks(pid) ?? 0;
        while (watch.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            var now = ProcStat.CpuTicks(pid) ?? 0;
            if (now - before < 2)
                break;
            before = now;
        }
        return watch.Elapsed;
    }

    /// <summary>Prints a status line every 10 s until disposed.</summary>
    internal static IDisposable Progress(Func<string> line)
    {
        var timer = new Timer(_ => Console.WriteLine(line()), null, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10));
        return timer;
    }
}
