using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace Onboarding.DeviceSim.Bootstrap;

/// <summary>What a run of N devices came to: failures grouped by reason, latency percentiles, devices per second.</summary>
internal sealed record BootstrapSummary(int Devices, int Ok, IReadOnlyDictionary<string, int> FailedByReason,
    double P50Ms, double P95Ms, double P99Ms, double DevicesPerSecond, TimeSpan Elapsed)
{
    public int Failed => Devices - Ok;

    public static BootstrapSummary Of(IReadOnlyList<DeviceOutcome> outcomes, TimeSpan elapsed)
    {
        var latencies = outcomes.Select(o => o.Elapsed.TotalMilliseconds).Order().ToArray();
        double Percentile(double p) => latencies.Length == 0 ? 0 : latencies[Math.Min(latencies.Length - 1, (int)Math.Ceiling(p * latencies.Length) - 1)];
        return new BootstrapSummary(outcomes.Count, outcomes.Count(o => o.Ok),
            outcomes.Where(o => !o.Ok).GroupBy(o => o.Reason!).OrderByDescending(g => g.Count()).ToDictionary(g => g.Key, g => g.Count()),
            Percentile(0.50), Percentile(0.95), Percentile(0.99), elapsed.TotalSeconds > 0 ? outcomes.Count / elapsed.TotalSeconds : 0, elapsed);
    }
}

/// <summary><c>bootstrap</c>: N devices concurrently (at most <c>concurrency</c> at a time), each a fresh <see cref="SztpDevice"/>.</summary>
internal static class BootstrapSimulation
{
    public static async Task<(IReadOnlyList<DeviceOutcome> Outcomes, BootstrapSummary Summary)> RunAsync(IReadOnlyList<DeviceIdentity> devices,
        BootstrapSettings settings, int concurrency, Action<DeviceOutcome>? completed, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(concurrency);
        var outcomes = new DeviceOutcome[devices.Count];
        var watch = Stopwatch.StartNew();
        await Parallel.ForAsync(0, devices.Count, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                outcomes[i] = await new SztpDevice(devices[i], settings).RunAsync(ct);
                completed?.Invoke(outcomes[i]);
            });
        watch.Stop();
        return (outcomes, BootstrapSummary.Of(outcomes, watch.Elapsed));
    }

    /// <summary>Runs with a Spectre.Console progress bar, then prints the summary; exit code 1 when any device failed.</summary>
    public static async Task<int> RunWithConsoleAsync(IReadOnlyList<DeviceIdentity> devices, BootstrapSettings settings, int concurrency,
        bool verbose, CancellationToken cancellationToken)
    {
        IReadOnlyList<DeviceOutcome> outcomes = [];
        BootstrapSummary summary = null!;
        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async progress =>
            {
                var task = progress.AddTask($"bootstrapping {devices.Count} devices (-c {concurrency})", maxValue: devices.Count);
                (outcomes, summary) = await RunAsync(devices, settings, concurrency, _ => task.Increment(1), cancellationToken);
            });
        Print(summary, outcomes, verbose);
        return summary.Failed == 0 ? 0 : 1;
    }

    public static void Print(BootstrapSummary summary, IReadOnlyList<DeviceOutcome> outcomes, bool verbose)
    {
        var table = new Table().Title("bootstrap summary");
        table.AddColumn("result").AddColumn(new TableColumn("devices").RightAligned()).AddColumn("example");
        table.AddRow("[green]ok[/]", summary.Ok.ToString(CultureInfo.InvariantCulture), "");
        foreach (var (reason, count) in summary.FailedByReason)
        {
            var example = outcomes.First(o => o.Reason == reason);
            table.AddRow($"[red]{Markup.Escape(reason)}[/]", count.ToString(CultureInfo.InvariantCulture),
                Markup.Escape($"{example.Serial}: {example.Detail}"));
        }
        AnsiConsole.Write(table);
        AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{summary.Devices} devices in {summary.Elapsed.TotalSeconds:0.00} s: {summary.DevicesPerSecond:0.0} devices/s; latency p50 {summary.P50Ms:0.0} ms, p95 {summary.P95Ms:0.0} ms, p99 {summary.P99Ms:0.0} ms"));
        if (!verbose)
            return;
        foreach (var outcome in outcomes)
        {
            AnsiConsole.WriteLine(outcome.Ok
                ? $"{outcome.Serial}: ok via {string.Join(" → ", outcome.Servers.Select(s => s.Authority))}, host key {outcome.HostKey?.Fingerprint}; "
                  + string.Join("; ", outcome.Accepted)
                : $"{outcome.Serial}: {outcome.Reason}: {outcome.Detail}");
        }
    }
}
