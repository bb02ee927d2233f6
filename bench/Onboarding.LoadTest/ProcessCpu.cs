using System.Globalization;

namespace Onboarding.LoadTest;

/// <summary>
/// CPU time (user + system, from /proc) of the processes a telemetry phase runs on: the host, mosquitto, PostgreSQL and
/// this load test, each with its reaped children (so the baseline's mosquitto_sub and psql count under the load test, and ended PostgreSQL backends under the postmaster). On 2 shared cores
/// every microsecond one of them spends is taken from the others, so per-message CPU explains the rates.
/// </summary>
internal sealed class ProcessCpu
{
    private static readonly double TicksPerSecond = 100; // USER_HZ: 100 on every Linux build we run on

    private readonly Dictionary<string, long> _ticks;

    private ProcessCpu(Dictionary<string, long> ticks) => _ticks = ticks;

    public static ProcessCpu Snapshot()
    {
        var ticks = new Dictionary<string, long>(StringComparer.Ordinal) { ["host"] = 0, ["mosquitto"] = 0, ["postgres"] = 0, ["load test"] = 0 };
        var self = Environment.ProcessId;
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var close = stat.LastIndexOf(')');
                var comm = stat[(stat.IndexOf('(') + 1)..close];
                // Fields after the command: state is field 3, utime 14, stime 15, cutime 16, cstime 17.
                var fields = stat[(close + 2)..].Split(' ');
                long Field(int number) => long.Parse(fields[number - 3], CultureInfo.InvariantCulture);
                string? group = pid == self ? "load test"
                    : comm == "mosquitto" ? "mosquitto"
                    : comm == "postgres" ? "postgres"
                    : File.ReadAllText(Path.Combine(directory, "cmdline")).Contains("Onboarding.Host.dll", StringComparison.Ordinal) ? "host"
                    : null;
                if (group is null)
                    continue;
                ticks[group] += Field(14) + Field(15) + Field(16) + Field(17);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or ArgumentOutOfRangeException)
            {
                // The process ended while we read it.
            }
        }
        return new ProcessCpu(ticks);
    }

    /// <summary>
    /// Waits until the host has used under 2 % of a core for a whole second (at most <paramref name="limit"/>), so a timed
    /// phase does not also pay for the JIT still recompiling the set-up's code paths (sign-up, SFTP, certificates) in the
    /// background. Returns how long it waited.
    /// </summary>
    public static async Task<TimeSpan> HostSettledAsync(TimeSpan limit, CancellationToken cancellationToken)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var before = Snapshot();
        while (watch.Elapsed < limit)
        {
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            var now = Snapshot();
            if ((now._ticks["host"] - before._ticks["host"]) / TicksPerSecond < 0.02)
                break;
            before = now;
        }
        return watch.Elapsed;
    }

    /// <summary>"CPU µs/msg: host 12, mosquitto 9, …" for the time since <paramref name="start"/>.</summary>
    public string PerMessageSince(ProcessCpu start, long messages) =>
        "CPU µs/msg: " + string.Join(", ", _ticks.Select(pair => pair.Value < start._ticks[pair.Key]
            ? $"{pair.Key} n/a (restarted)"
            : $"{pair.Key} {(pair.Value - start._ticks[pair.Key]) / TicksPerSecond * 1e6 / messages:0}"));
}
