using System.Diagnostics;
using System.Globalization;
using System.Text;
using Onboarding.Bench.Harness;
using Onboarding.Ssh;
using Onboarding.Ssh.Keys;

namespace Onboarding.LoadTest;

/// <summary>
/// The callhome baseline: OpenSSH's ssh client as the NMS side. M devices of the same kind as ours (our SshServerSession,
/// a P-256 host key each, authorizing one ed25519 client key for the call-home user) listen on loopback; one
/// <c>ssh -N</c> process per device connects (each ssh is a process, so M is smaller than ours' N). Timed: process start
/// until the device saw userauth succeed, <see cref="CallHomeSettings.Concurrency"/> at a time. Then the M sessions are
/// held idle and the ssh processes' CPU, RSS and PSS are read from /proc.
/// </summary>
internal static class CallHomeBaseline
{
    public static async Task<IReadOnlyList<Measurement>> RunAsync(CallHomeSettings settings, CancellationToken cancellationToken)
    {
        var m = settings.BaselineSessions;
        var directory = Directory.CreateTempSubdirectory("onboarding-bench-callhome-").FullName;
        using var clientKey = SshHostKey.GenerateEd25519();
        var keyPath = Path.Combine(directory, "id_ed25519");
        OpenSshServer.WritePrivate(keyPath, clientKey.ToOpenSshPrivateKey());
        var hostKeys = Enumerable.Range(0, m).Select(_ => SshHostKey.GenerateEcdsa(256)).ToArray();
        var authenticated = Enumerable.Range(0, m).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        var devices = new OurSshServer[m];
        for (var i = 0; i < m; i++)
        {
            var done = authenticated[i];
            devices[i] = new OurSshServer(CallHomeDevices.Options(hostKeys[i], clientKey.PublicKey, settings.UserName), session =>
            {
                done.TrySetResult();
                return session.Completion;
            });
        }

        var knownHosts = Path.Combine(directory, "known_hosts");
        await File.WriteAllLinesAsync(knownHosts, devices.Select((d, i) => $"[127.0.0.1]:{d.Port} {hostKeys[i].PublicKey.ToAuthorizedKeysLine()}"), cancellationToken);

        var processes = new Process?[m];
        var errors = new Task<string>?[m];
        var latencies = new double[m];
        var failures = 0;
        var next = -1;
        var loadTestCpu = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        try
        {
            using (CallHomeTest.Progress(() => $"baseline: {authenticated.Count(a => a.Task.IsCompleted)}/{m} authenticated, {watch.Elapsed.TotalSeconds:0} s, load {Report.LoadAverage()}"))
            {
                await Task.WhenAll(Enumerable.Range(0, Math.Min(settings.Concurrency, m)).Select(_ => Task.Run(async () =>
                {
                    int i;
                    while ((i = Interlocked.Increment(ref next)) < m)
                    {
                        var started = Stopwatch.GetTimestamp();
                        var process = Process.Start(Ssh(settings, keyPath, knownHosts, devices[i].Port)) ?? throw new InvalidOperationException("ssh did not start");
                        processes[i] = process;
                        errors[i] = process.StandardError.ReadToEndAsync(CancellationToken.None);
                        var exited = process.WaitForExitAsync(cancellationToken);
                        var first = await Task.WhenAny(authenticated[i].Task, exited, Task.Delay(TimeSpan.FromSeconds(settings.TimeoutSeconds), cancellationToken));
                        if (first == authenticated[i].Task)
                        {
                            latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                            continue;
                        }
                        if (Interlocked.Increment(ref failures) <= 3)
                            await Console.Error.WriteLineAsync($"baseline ssh {i}: {(first == exited ? $"exited {process.ExitCode}: {await errors[i]!}" : "timed out")}");
                    }
                }, cancellationToken)));
            }
            var elapsed = watch.Elapsed;
            var ok = m - failures;
            var live = processes.Where((p, i) => p is not null && authenticated[i].Task.IsCompleted).Select(p => p!.Id).ToArray();
            var loadTestCpuEstablish = Process.GetCurrentProcess().TotalProcessorTime - loadTestCpu;
            // Each process's CPU so far is its start-up, handshake and authentication: nothing else has happened on it yet.
            var establishNs = live.Sum(ProcStat.MainThreadRunNanoseconds);
            var establishTicks = live.Sum(pid => ProcStat.CpuTicks(pid) ?? 0);
            Console.WriteLine($"baseline: {ok}/{m} authenticated in {elapsed.TotalSeconds:0.0} s; load {Report.LoadAverage()}");

            var idleStart = DateTimeOffset.UtcNow;
            await Task.Delay(TimeSpan.FromSeconds(settings.IdleSeconds), cancellationToken);
            var idleSeconds = (DateTimeOffset.UtcNow - idleStart).TotalSeconds;
            var idleNs = live.Sum(ProcStat.MainThreadRunNanoseconds) - establishNs;
            var rss = live.Sum(ProcStat.RssKib);
            var pss = live.Sum(ProcStat.PssKib);
            var alive = processes.Count(p => p is { HasExited: false });
            Console.WriteLine($"baseline: after {settings.IdleSeconds} s idle {alive} ssh processes alive; RSS {rss / 1024.0:0.0} MiB, PSS {pss / 1024.0:0.0} MiB in total; load {Report.LoadAverage()}");

            var sorted = latencies.Where((_, i) => authenticated[i].Task.IsCompleted).Order().ToArray();
            var server = $"baseline: OpenSSH ssh -N (one process per session, ServerAliveInterval {settings.ServerAliveInterval})";
            const string client = "our SshServerSession devices (listening)";
            return
            [
                new Measurement("establish + authenticate", server, client, ok / elapsed.TotalSeconds, "sessions/s",
                    $"{ok}/{m} ok, {failures} failed, c={settings.Concurrency}; latency (process start → userauth success) p50 {CallHomeTest.Percentile(sorted, 0.5):0} ms " +
                    $"p95 {CallHomeTest.Percentile(sorted, 0.95):0} ms max {CallHomeTest.Percentile(sorted, 1):0} ms; CPU/session: ssh {establishNs / 1e6 / Math.Max(1, ok):0.00} ms (schedstat; utime+stime say {establishTicks / ProcStat.TicksPerSecond * 1000 / Math.Max(1, ok):0.00}), " +
                    $"load-test devices + spawning {loadTestCpuEstablish.TotalMilliseconds / Math.Max(1, ok):0.00} ms"),
                new Measurement("idle memory per session", server, client, pss / (double)Math.Max(1, live.Length), "KiB",
                    $"PSS (shared pages split among the {live.Length} processes); RSS {rss / (double)Math.Max(1, live.Length):0} KiB per process"),
                new Measurement("idle CPU", server, client, idleNs / 1e6 / idleSeconds, "ms CPU/s",
                    $"{alive} sessions held {idleSeconds:0} s; {idleNs / 1e3 / idleSeconds / Math.Max(1, alive):0.00} µs/s per session (schedstat)"),
            ];
        }
        finally
        {
            foreach (var device in devices)
                await device.DisposeAsync();
            foreach (var process in processes)
            {
                if (process is null)
                    continue;
                if (!process.HasExited)
                    process.Kill();
                await process.WaitForExitAsync(CancellationToken.None);
                process.Dispose();
            }
            foreach (var key in hostKeys)
                key.Dispose();
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// Reference row: our SshClientSession in this process against the same kind of listening devices, with none of the
    /// host's work (trust, lifecycle step, registry, logging): the SSH-only floor of ours, for the same work as ssh -N.
    /// Both roles run in this process, so its CPU and managed heap per session are client and device together.
    /// </summary>
    public static async Task<IReadOnlyList<Measurement>> OurClientAsync(CallHomeSettings settings, CancellationToken cancellationToken)
    {
        var m = settings.BaselineSessions;
        using var clientKey = SshHostKey.GenerateEd25519();
        var hostKeys = Enumerable.Range(0, m).Select(_ => SshHostKey.GenerateEcdsa(256)).ToArray();
        var devices = hostKeys.Select(k => new OurSshServer(CallHomeDevices.Options(k, clientKey.PublicKey, settings.UserName))).ToArray();
        var clients = new SshClientSession?[m];
        var latencies = new double[m];
        var failures = 0;
        var next = -1;
        try
        {
            var managedBefore = GC.GetTotalMemory(forceFullCollection: true);
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, Math.Min(settings.Concurrency, m)).Select(_ => Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < m)
                {
                    var started = Stopwatch.GetTimestamp();
                    var fingerprint = hostKeys[i].PublicKey.Fingerprint;
                    try
                    {
                        var stream = await Loopback.ConnectAsync(devices[i].Port, cancellationToken);
                        clients[i] = await SshClientSession.ConnectAsync(stream, new SshClientOptions
                        {
                            UserName = settings.UserName,
                            ClientKey = clientKey,
                            HostKeyVerifier = (context, _) => ValueTask.FromResult(context.HostKey.Fingerprint == fingerprint),
                        }, cancellationToken);
                        latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                    }
                    catch (Exception ex) when (ex is SshProtocolException or SshAuthenticationException or SshConnectionLostException or IOException)
                    {
                        if (Interlocked.Increment(ref failures) <= 3)
                            await Console.Error.WriteLineAsync($"reference client {i}: {ex.Message}");
                    }
                }
            }, cancellationToken)));
            var elapsed = watch.Elapsed;
            var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
            var ok = m - failures;
            var managedEstablished = GC.GetTotalMemory(forceFullCollection: true);
            var idleCpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            await Task.Delay(TimeSpan.FromSeconds(Math.Min(settings.IdleSeconds, 30)), cancellationToken);
            var idleCpu = Process.GetCurrentProcess().TotalProcessorTime - idleCpuBefore;
            var sorted = latencies.Where((_, i) => clients[i] is not null).Order().ToArray();
            const string server = "reference: our SshClientSession in this process (SSH only, no host work)";
            const string client = "our SshServerSession devices (listening)";
            Console.WriteLine($"reference: {ok}/{m} authenticated in {elapsed.TotalSeconds:0.0} s; load {Report.LoadAverage()}");
            return
            [
                new Measurement("establish + authenticate", server, client, ok / elapsed.TotalSeconds, "sessions/s",
                    $"{ok}/{m} ok, c={settings.Concurrency}; latency p50 {CallHomeTest.Percentile(sorted, 0.5):0} ms p95 {CallHomeTest.Percentile(sorted, 0.95):0} ms; " +
                    $"CPU/session: client and device together {cpu.TotalMilliseconds / Math.Max(1, ok):0.00} ms"),
                new Measurement("idle memory per session", server, client, (managedEstablished - managedBefore) / 1024.0 / Math.Max(1, ok), "KiB",
                    "managed heap after full GC, client and device together (the device alone: the ours row's device side)"),
                new Measurement("idle CPU", server, client, idleCpu.TotalMilliseconds / Math.Min(settings.IdleSeconds, 30), "ms CPU/s",
                    $"this whole process (clients, devices, timers) over {Math.Min(settings.IdleSeconds, 30)} s"),
            ];
        }
        finally
        {
            await Task.WhenAll(clients.Where(c => c is not null).Select(c => c!.DisposeAsync().AsTask()));
            foreach (var device in devices)
                await device.DisposeAsync();
            foreach (var key in hostKeys)
                key.Dispose();
        }
    }

    private static ProcessStartInfo Ssh(CallHomeSettings settings, string keyPath, string knownHosts, int port)
    {
        var psi = new ProcessStartInfo("ssh") { RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var argument in new[]
        {
            "-F", "/dev/null", "-N", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + knownHosts,
            "-o", "GlobalKnownHostsFile=/dev/null", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "Compression=no",
            "-o", "ServerAliveInterval=" + settings.ServerAliveInterval.ToString(CultureInfo.InvariantCulture), "-o", "ConnectTimeout=60",
            "-i", keyPath, "-l", settings.UserName, "-p", port.ToString(CultureInfo.InvariantCulture), "127.0.0.1",
        })
        {
            psi.ArgumentList.Add(argument);
        }
        psi.StandardErrorEncoding = Encoding.UTF8;
        return psi;
    }
}
