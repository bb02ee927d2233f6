using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Onboarding.DeviceSim.Bootstrap;
using Spectre.Console;

namespace Onboarding.DeviceSim.CallHome;

/// <summary>What a call-home run of N devices came to.</summary>
internal sealed record CallHomeSummary(int Devices, int Configured, int Connected, IReadOnlyDictionary<string, int> FailedByReason, TimeSpan Elapsed)
{
    public int Failed => Devices - Configured;

    public static CallHomeSummary Of(IReadOnlyList<CallHomeOutcome> outcomes, TimeSpan elapsed) => new(
        outcomes.Count,
        outcomes.Count(o => o.Ok),
        outcomes.Count(o => o.Sessions > 0),
        outcomes.Where(o => !o.Ok).GroupBy(o => o.Reason!).OrderByDescending(g => g.Count()).ToDictionary(g => g.Key, g => g.Count()),
        elapsed);
}

/// <summary><c>callhome</c>: N devices concurrently (at most <c>concurrency</c> at a time; 0: all at once), each a <see cref="CallHomeDevice"/>.</summary>
internal static class CallHomeSimulation
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public static async Task<(IReadOnlyList<CallHomeOutcome> Outcomes, CallHomeSummary Summary)> RunAsync(IReadOnlyList<DeviceIdentity> devices,
        CallHomeSettings settings, int concurrency, CallHomeCounters counters, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(concurrency);
        var outcomes = new CallHomeOutcome[devices.Count];
        var watch = Stopwatch.StartNew();
        // Cancellation ends each device with its outcome (--stay runs until Ctrl+C), so the loop itself is never cancelled.
        await Parallel.ForAsync(0, devices.Count, new ParallelOptions { MaxDegreeOfParallelism = concurrency == 0 ? Math.Max(1, devices.Count) : concurrency },
            async (i, _) => outcomes[i] = await new CallHomeDevice(devices[i], settings, counters).RunAsync(cancellationToken));
        watch.Stop();
        return (outcomes, CallHomeSummary.Of(outcomes, watch.Elapsed));
    }

    /// <summary>Runs with a live progress line, prints the summary, writes <paramref name="jsonFile"/>; exit code 1 when any device was not configured.</summary>
    public static async Task<int> RunWithConsoleAsync(IReadOnlyList<DeviceIdentity> devices, CallHomeSettings settings, int concurrency,
        string? jsonFile, bool verbose, CancellationToken cancellationToken)
    {
        var counters = new CallHomeCounters();
        IReadOnlyList<CallHomeOutcome> outcomes = [];
        CallHomeSummary summary = null!;
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async progress =>
            {
                var task = progress.AddTask("calling home", maxValue: devices.Count);
                var run = RunAsync(devices, settings, concurrency, counters, cancellationToken);
                while (await Task.WhenAny(run, Task.Delay(200, CancellationToken.None)) != run)
                    Update(task, counters, devices.Count);
                (outcomes, summary) = await run;
                Update(task, counters, devices.Count);
            });
        Print(summary, outcomes, verbose);
        if (jsonFile is not null)
            await WriteJsonAsync(jsonFile, summary, outcomes);
        return summary.Failed == 0 ? 0 : 1;
    }

    private static void Update(ProgressTask task, CallHomeCounters counters, int devices)
    {
        task.Value = counters.Finished;
        task.Description = string.Create(CultureInfo.InvariantCulture,
            $"{devices} devices: {counters.Connected} connected, {counters.Configured} configured, {counters.Finished} done, {counters.Retries} retries");
    }

    public static void Print(CallHomeSummary summary, IReadOnlyList<CallHomeOutcome> outcomes, bool verbose)
    {
        var table = new Table().Title("call-home summary");
        table.AddColumn("result").AddColumn(new TableColumn("devices").RightAligned()).AddColumn("example");
        table.AddRow("[green]configured[/]", summary.Configured.ToString(CultureInfo.InvariantCulture), "");
        foreach (var (reason, count) in summary.FailedByReason)
        {
            var example = outcomes.First(o => o.Reason == reason);
            table.AddRow($"[red]{Markup.Escape(reason)}[/]", count.ToString(CultureInfo.InvariantCulture), Markup.Escape($"{example.Serial}: {example.Detail}"));
        }
        AnsiConsole.Write(table);
        AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{summary.Devices} devices in {summary.Elapsed.TotalSeconds:0.00} s: {summary.Connected} reached the NMS, {summary.Configured} configured, {summary.Failed} failed; {outcomes.Sum(o => o.Connections)} connections"));
        if (!verbose)
            return;
        foreach (var o in outcomes)
        {
            AnsiConsole.WriteLine(o.Ok
                ? $"{o.Serial}: configured after {o.Connections} connection(s){(o.Commands.Count > 0 ? $", commands: {string.Join(" | ", o.Commands)}" : "")}"
                : $"{o.Serial}: {o.Reason}: {o.Detail}");
        }
    }

    public static async Task WriteJsonAsync(string path, CallHomeSummary summary, IReadOnlyList<CallHomeOutcome> outcomes)
    {
        var document = new
        {
            summary.Devices,
            summary.Configured,
            summary.Connected,
            summary.Failed,
            summary.FailedByReason,
            ElapsedSeconds = summary.Elapsed.TotalSeconds,
            Results = outcomes.Select(o => new
            {
                o.Serial, o.Ok, o.Reason, o.Detail, o.Connections, o.Sessions, o.Configured, o.Commands, o.HostKey,
                o.RunningConfiguration, o.FaultsInjected, ElapsedSeconds = o.Elapsed.TotalSeconds,
            }),
        };
        await using var stream = File.Create(path);
        await JsonSerializer.SerializeAsync(stream, document, Json);
    }
}
