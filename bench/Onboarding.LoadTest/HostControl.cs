using System.Diagnostics;
using System.Globalization;

namespace Onboarding.LoadTest;

/// <summary>
/// The resilience runs' faults, on this machine only: kill -9 of a running host and its restart with the same command
/// line, environment and working directory (read from /proc before the kill, so it does not matter how the host was
/// started), and a fast restart of its PostgreSQL cluster.
/// </summary>
internal static class HostControl
{
    private static readonly string[] ExecIntoLog = ["-c", "exec \"$@\" >>\"$ONBOARD_HOST_LOG\" 2>&1", "sh"];

    /// <summary>SIGKILL to <paramref name="pid"/>, then the same command again; its output is appended to <paramref name="log"/>. Returns the new pid.</summary>
    public static async Task<int> KillAndRestartAsync(int pid, string log, CancellationToken cancellationToken)
    {
        var proc = Path.Combine("/proc", pid.ToString(CultureInfo.InvariantCulture));
        var arguments = (await File.ReadAllTextAsync(Path.Combine(proc, "cmdline"), cancellationToken)).TrimEnd('\0').Split('\0');
        var environment = (await File.ReadAllTextAsync(Path.Combine(proc, "environ"), cancellationToken)).Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e.Split('=', 2)).Where(p => p.Length == 2).ToList();
        var directory = new DirectoryInfo(Path.Combine(proc, "cwd")).LinkTarget ?? Environment.CurrentDirectory;

        using (var process = Process.GetProcessById(pid))
            process.Kill(); // SIGKILL on Linux: no shutdown, no flush, in-flight transactions cut
        var watch = Stopwatch.StartNew();
        while (Alive(pid) && watch.Elapsed < TimeSpan.FromSeconds(30))
            await Task.Delay(20, cancellationToken);

        // sh execs the host, so the pid we start is the host's; its output goes straight to the log, no pipe to drain.
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = directory };
        foreach (var argument in ExecIntoLog.Concat(arguments))
            psi.ArgumentList.Add(argument);
        psi.Environment.Clear();
        foreach (var pair in environment)
            psi.Environment[pair[0]] = pair[1];
        psi.Environment["ONBOARD_HOST_LOG"] = Path.GetFullPath(log);
        using var restarted = Process.Start(psi) ?? throw new InvalidOperationException("the host did not start again");
        Console.WriteLine($"host {pid} killed (SIGKILL) and restarted as {restarted.Id} after {watch.Elapsed.TotalSeconds:0.00} s: {string.Join(' ', arguments)} (log {log})");
        return restarted.Id;
    }

    /// <summary>Alive and not a zombie (a killed host stays a zombie until the shell that started it reaps it).</summary>
    public static bool Alive(int pid)
    {
        try
        {
            var stat = File.ReadAllText(Path.Combine("/proc", pid.ToString(CultureInfo.InvariantCulture), "stat"));
            return stat[stat.LastIndexOf(')') + 2] is not ('Z' or 'X');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary><c>pg_ctl restart -m fast</c> of the cluster in <paramref name="pgData"/> (as user postgres when we are root).</summary>
    public static async Task RestartPostgresAsync(string pgCtl, string pgData, CancellationToken cancellationToken)
    {
        var asPostgres = Environment.UserName == "root";
        var psi = new ProcessStartInfo(asPostgres ? "runuser" : pgCtl) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (asPostgres)
        {
            foreach (var a in new[] { "-u", "postgres", "--", pgCtl })
                psi.ArgumentList.Add(a);
        }
        var data = Path.GetFullPath(pgData);
        foreach (var a in new[] { "-D", data, "restart", "-m", "fast", "-w", "-t", "60", "-l", Path.Combine(data, "server.log") })
            psi.ArgumentList.Add(a);
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("pg_ctl did not start");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        Console.WriteLine($"pg_ctl restart -m fast: exit {process.ExitCode} after {watch.Elapsed.TotalSeconds:0.00} s {(await error).Trim()}");
        _ = await output;
    }
}

/// <summary>
/// CPU (utime + stime from /proc, with reaped children) per role over a window in which processes may be killed and
/// started again: each (role, pid) is counted from its value at the window's start (0 for a process born inside the
/// window, so a restarted host's start-up counts) to its last sample. Sample often enough, and right before a kill.
/// </summary>
internal sealed class CpuLedger
{
    private readonly Dictionary<(string Role, int Pid), (long First, long Last)> _seen = [];
    private bool _started;

    public void Sample(IEnumerable<(string Role, int Pid, long? Ticks)> processes)
    {
        lock (_seen)
        {
            foreach (var (role, pid, ticks) in processes)
            {
                if (ticks is not { } t)
                    continue;
                _seen[(role, pid)] = _seen.TryGetValue((role, pid), out var known) ? (known.First, Math.Max(known.Last, t)) : (_started ? 0 : t, t);
            }
            _started = true;
        }
    }

    /// <summary>CPU milliseconds of a role since the first sample.</summary>
    public double Milliseconds(string role)
    {
        lock (_seen)
            return _seen.Where(p => p.Key.Role == role).Sum(p => p.Value.Last - p.Value.First) * 1000.0 / ProcStat.TicksPerSecond;
    }

    /// <summary>The postmaster's pid of a cluster (first line of postmaster.pid), or null when it is not running.</summary>
    public static int? Postmaster(string pgData)
    {
        try
        {
            return int.Parse(File.ReadLines(Path.Combine(pgData, "postmaster.pid")).First(), CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or FormatException or InvalidOperationException)
        {
            return null;
        }
    }
}
