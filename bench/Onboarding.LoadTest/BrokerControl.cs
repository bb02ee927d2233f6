using System.Diagnostics;
using System.Globalization;

namespace Onboarding.LoadTest;

/// <summary>
/// Stops the host's mosquitto (a signal to the pid in its pid file, then waits until the process is gone), keeps it
/// down for a while and starts it again the way run.sh does: <c>mosquitto -d -c &lt;conf&gt;</c>. With SIGTERM mosquitto
/// writes its persistence file (<c>persistence true</c> in the generated config) on the way out, so queued messages of
/// persistent sessions survive; with SIGKILL nothing written since the last autosave does.
/// </summary>
internal static class BrokerControl
{
    /// <summary>run.sh's layout: the CA in .data/keys/telemetry-ca, the broker in .data/broker.</summary>
    public static string ConfigFile(string caDirectory) =>
        Path.GetFullPath(Path.Combine(caDirectory, "..", "..", "broker", "mosquitto.conf"));

    public static async Task StopForAsync(string configFile, TimeSpan down, string signal, CancellationToken cancellationToken)
    {
        var settings = File.ReadAllLines(configFile);
        string Setting(string key) => settings.Select(l => l.Trim()).Where(l => l.StartsWith(key + " ", StringComparison.Ordinal))
            .Select(l => l[(key.Length + 1)..].Trim()).FirstOrDefault() ?? throw new InvalidOperationException($"{configFile} has no {key}");
        var pidFile = Setting("pid_file");
        var database = Path.Combine(Setting("persistence_location"), "mosquitto.db");
        var pid = int.Parse((await File.ReadAllTextAsync(pidFile, cancellationToken)).Trim(), CultureInfo.InvariantCulture);
        var before = DatabaseState(database);

        var watch = Stopwatch.StartNew();
        await RunAsync("kill", ["-" + signal, pid.ToString(CultureInfo.InvariantCulture)], cancellationToken);
        while (Directory.Exists($"/proc/{pid}") && !IsZombie(pid) && watch.Elapsed < TimeSpan.FromSeconds(30))
            await Task.Delay(20, cancellationToken);
        var gone = watch.Elapsed;
        Console.WriteLine($"broker: SIG{signal} to mosquitto pid {pid}, exited after {gone.TotalSeconds:0.00} s; "
            + $"persistence file {database}: before {before}, after {DatabaseState(database)}");

        var remaining = down - watch.Elapsed;
        if (remaining > TimeSpan.Zero)
            await Task.Delay(remaining, cancellationToken);
        await RunAsync("mosquitto", ["-d", "-c", configFile], cancellationToken);
        Console.WriteLine($"broker: mosquitto -d -c {configFile} after {watch.Elapsed.TotalSeconds:0.00} s down "
            + $"(new pid {(await File.ReadAllTextAsync(pidFile, cancellationToken)).Trim()})");
    }

    private static string DatabaseState(string path)
    {
        var file = new FileInfo(path);
        return file.Exists ? $"{file.Length:N0} bytes, written {file.LastWriteTimeUtc:HH:mm:ss.fff}" : "absent";
    }

    private static bool IsZombie(int pid)
    {
        try
        {
            // /proc/<pid>/stat: "pid (comm) S ..."; Z = exited, not yet reaped (mosquitto -d's parent is init).
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (IOException)
        {
            return true;
        }
    }

    private static async Task RunAsync(string file, string[] arguments, CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo(file, arguments) { UseShellExecute = false, RedirectStandardError = true };
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"{file} did not start");
        var error = await process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)}: exit {process.ExitCode} {error.Trim()}");
    }
}
