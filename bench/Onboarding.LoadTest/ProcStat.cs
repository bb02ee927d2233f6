using System.Globalization;

namespace Onboarding.LoadTest;

/// <summary>
/// CPU and memory of single processes from /proc (Linux only): the host by its pid, a PostgreSQL cluster by its
/// postmaster and backends, OpenSSH client processes one by one. Unlike <see cref="ProcessCpu"/> it does not group
/// processes by name, so other engineers' hosts and clusters on the same machine are not counted.
/// </summary>
internal static class ProcStat
{
    public const double TicksPerSecond = 100; // USER_HZ

    /// <summary>utime + stime, plus cutime + cstime with <paramref name="withReapedChildren"/>; null when the process is gone.</summary>
    public static long? CpuTicks(int pid, bool withReapedChildren = true)
    {
        var fields = StatFields(pid);
        if (fields is null)
            return null;
        long Field(int number) => long.Parse(fields[number - 3], CultureInfo.InvariantCulture);
        return Field(14) + Field(15) + (withReapedChildren ? Field(16) + Field(17) : 0);
    }

    /// <summary>
    /// Time on CPU in nanoseconds of the process's main thread (/proc/pid/schedstat), exact where the tick-sampled
    /// utime/stime round a few milliseconds of work to 0 or 10 ms; for single-threaded processes such as ssh.
    /// </summary>
    public static long MainThreadRunNanoseconds(int pid)
    {
        try
        {
            return long.Parse(File.ReadAllText(Path.Combine("/proc", pid.ToString(CultureInfo.InvariantCulture), "schedstat")).Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 0; // ended while we looked
        }
    }

    /// <summary>VmRSS in KiB (0 when the process is gone).</summary>
    public static long RssKib(int pid) => StatusKib(Path.Combine("/proc", pid.ToString(CultureInfo.InvariantCulture), "status"), "VmRSS:");

    /// <summary>Proportional set size in KiB: shared pages (libc, libcrypto, the ssh binary) divided among their users.</summary>
    public static long PssKib(int pid) => StatusKib(Path.Combine("/proc", pid.ToString(CultureInfo.InvariantCulture), "smaps_rollup"), "Pss:");

    /// <summary>
    /// Private_Clean + Private_Dirty in KiB (smaps_rollup): the pages only this process maps, i.e. its own heap and
    /// stacks without the shared runtime and libraries RSS also counts.
    /// </summary>
    public static long PrivateKib(int pid)
    {
        var path = Path.Combine("/proc", pid.ToString(CultureInfo.InvariantCulture), "smaps_rollup");
        return StatusKib(path, "Private_Clean:") + StatusKib(path, "Private_Dirty:");
    }

    /// <summary>
    /// CPU of a PostgreSQL cluster: its postmaster (with ended backends, reaped into cutime/cstime) and its live
    /// children. The postmaster's pid is the first line of <c>postmaster.pid</c> in the data directory.
    /// </summary>
    public static long? ClusterCpuTicks(string dataDirectory)
    {
        var pidFile = Path.Combine(dataDirectory, "postmaster.pid");
        if (!File.Exists(pidFile))
            return null;
        var postmaster = int.Parse(File.ReadLines(pidFile).First(), CultureInfo.InvariantCulture);
        var total = CpuTicks(postmaster);
        if (total is null)
            return null;
        foreach (var child in Children(postmaster))
            total += CpuTicks(child, withReapedChildren: false) ?? 0;
        return total;
    }

    private static IEnumerable<int> Children(int parent)
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                continue;
            var fields = StatFields(pid);
            if (fields is not null && int.Parse(fields[4 - 3], CultureInfo.InvariantCulture) == parent)
                yield return pid;
        }
    }

    /// <summary>The fields of /proc/pid/stat after the command name (field 3, the state, is element 0).</summary>
    private static string[]? StatFields(int pid)
    {
        try
        {
            var stat = File.ReadAllText(Path.Combine("/proc", pid.ToString(CultureInfo.InvariantCulture), "stat"));
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null; // ended while we looked
        }
    }

    private static long StatusKib(string path, string key)
    {
        try
        {
            foreach (var line in File.ReadLines(path))
            {
                if (line.StartsWith(key, StringComparison.Ordinal))
                    return long.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // ended while we looked
        }
        return 0;
    }
}
