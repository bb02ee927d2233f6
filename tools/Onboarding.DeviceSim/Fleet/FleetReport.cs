using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;

namespace Onboarding.DeviceSim.Fleet;

/// <summary>The time a stage took across a fleet (from the stage before it), nearest-rank percentiles in seconds.</summary>
internal sealed record StageTiming(FleetStage Stage, int Devices, double P50, double P95, double Max)
{
    public static StageTiming Of(FleetStage stage, IEnumerable<double> seconds)
    {
        var sorted = seconds.Order().ToArray();
        double Percentile(double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, Math.Max(0, (int)Math.Ceiling(p * sorted.Length) - 1))];
        return new StageTiming(stage, sorted.Length, Percentile(0.50), Percentile(0.95), sorted.Length == 0 ? 0 : sorted[^1]);
    }
}

/// <summary>
/// What a fleet run came to: the live progress line (counts per stage), the final tables (devices per final state,
/// time per stage, where devices stopped and why) and the JSON result file for scripts.
/// </summary>
internal static class FleetReport
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <summary>Stages the report times: every one after power-on that this run can see.</summary>
    public static IReadOnlyList<FleetStage> TimedStages(bool withNms) =>
        [.. FleetDevice.Stages.Where(s => s != FleetStage.PoweredOn && (withNms || s < FleetStage.Onboarded))];

    /// <summary>"12 devices, 4.2 s: 12 powered on, 11 redirected, …, 2 failed"; <paramref name="count"/> may override a stage's count (the NMS's own).</summary>
    public static string LiveLine(IReadOnlyList<FleetDevice> devices, TimeSpan elapsed, bool withNms, Func<FleetStage, int?>? count = null)
    {
        var parts = FleetDevice.Stages.Where(s => withNms || s < FleetStage.Onboarded)
            .Select(s => $"{count?.Invoke(s) ?? devices.Count(d => d.Reached(s))} {FleetStageNames.Of(s).Replace('-', ' ')}");
        return string.Create(CultureInfo.InvariantCulture,
            $"{devices.Count} devices, {elapsed.TotalSeconds:0.0} s: {string.Join(", ", parts)}, {devices.Count(d => d.Error is not null)} failed");
    }

    /// <summary>The final state a device ends in, as the report groups them: its furthest stage, or where it failed.</summary>
    public static string FinalState(FleetDevice device) => device.Error is { } error
        ? $"failed before {FleetStageNames.Of(error.Stage)}"
        : FleetStageNames.Of(device.LastStage);

    /// <summary>Why a device is worth a line in "where devices stopped": a fault, an error, or an NMS state short of Onboarded.</summary>
    public static bool Notable(FleetDevice device, bool withNms) =>
        device.Fault != DeviceFault.None || device.Error is not null || (withNms && device.Nms?.State != "Onboarded")
        || (withNms && !device.Reached(FleetStage.Notified));

    public static IReadOnlyList<StageTiming> Timings(IReadOnlyList<FleetDevice> devices, bool withNms) =>
        [.. TimedStages(withNms).Select(s => StageTiming.Of(s, devices.Select(d => d.SecondsTo(s)).OfType<double>()))];

    public static void Print(IReadOnlyList<FleetDevice> devices, TimeSpan elapsed, bool withNms)
    {
        var states = new Table().Title("devices by final state");
        states.AddColumn("final state").AddColumn(new TableColumn("devices").RightAligned());
        if (withNms)
            states.AddColumn("at the NMS");
        foreach (var group in devices.GroupBy(FinalState).OrderBy(g => g.First().Error is null ? 0 : 1).ThenByDescending(g => g.First().LastStage))
        {
            var name = group.Key.StartsWith("failed", StringComparison.Ordinal) ? $"[red]{Markup.Escape(group.Key)}[/]" : $"[green]{Markup.Escape(group.Key)}[/]";
            var row = new List<string> { name, group.Count().ToString(CultureInfo.InvariantCulture) };
            if (withNms)
                row.Add(Markup.Escape(string.Join(", ", group.GroupBy(d => d.Nms?.State ?? "no record").Select(g => $"{g.Key} {g.Count()}"))));
            states.AddRow([.. row]);
        }
        AnsiConsole.Write(states);

        var timing = new Table().Title("time per stage (seconds, from the stage before)");
        timing.AddColumn("stage").AddColumn(new TableColumn("devices").RightAligned()).AddColumn(new TableColumn("p50").RightAligned())
            .AddColumn(new TableColumn("p95").RightAligned()).AddColumn(new TableColumn("max").RightAligned());
        foreach (var t in Timings(devices, withNms))
        {
            timing.AddRow(FleetStageNames.Of(t.Stage), t.Devices.ToString(CultureInfo.InvariantCulture), Seconds(t.P50), Seconds(t.P95), Seconds(t.Max));
        }
        AnsiConsole.Write(timing);

        // One block per device rather than a table: the reasons are sentences, and a table squeezes them into a column.
        var notable = devices.Where(d => Notable(d, withNms)).ToList();
        if (notable.Count > 0)
        {
            AnsiConsole.WriteLine("where devices stopped, and why:");
            foreach (var d in notable)
            {
                var serial = d.PresentedSerial == d.Serial ? d.Serial : $"{d.PresentedSerial} (minted as {d.Serial})";
                AnsiConsole.WriteLine($"  {serial} [{FaultPlan.NameOf(d.Fault)}]: {FinalState(d)}");
                AnsiConsole.WriteLine($"    device: {DeviceSays(d)}");
                if (withNms)
                    AnsiConsole.WriteLine($"    NMS:    {NmsSays(d)}");
            }
        }
        var nms = withNms
            ? string.Create(CultureInfo.InvariantCulture,
                $", {devices.Count(d => d.Nms?.State == "Onboarded")} onboarded at the NMS, {devices.Count(d => d.Reached(FleetStage.Notified))} owner notifications")
            : "";
        AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{devices.Count} devices in {elapsed.TotalSeconds:0.0} s: {devices.Count(d => d.Error is null)} finished, {devices.Count(d => d.Error is not null)} failed{nms}"));
    }

    /// <summary>The device's own account: its error, or how it recovered from failed call-home attempts.</summary>
    public static string DeviceSays(FleetDevice device)
    {
        if (device.Error is { } error)
            return $"{error.Reason}: {error.Detail}";
        var failures = device.CallHomeFailures;
        if (failures.Count > 0)
            return $"recovered: {failures.Count} failed call-home attempt(s) ({failures[0]}), then configured after {device.CallHome?.Connections} connection(s)";
        return "ok";
    }

    public static string NmsSays(FleetDevice device) => device.Nms switch
    {
        null => "not asked",
        { State: null } => $"no record of {device.PresentedSerial} (never handed off to the NMS)",
        { Reason: { } reason } => $"{device.Nms.State}: {reason}",
        _ => device.Nms.State!,
    };

    public static async Task WriteJsonAsync(string path, IReadOnlyList<FleetDevice> devices, DateTimeOffset startedAt, TimeSpan elapsed, bool withNms)
    {
        var document = new
        {
            StartedAt = startedAt,
            ElapsedSeconds = elapsed.TotalSeconds,
            Devices = devices.Count,
            Failed = devices.Count(d => d.Error is not null),
            ByFinalState = devices.GroupBy(FinalState).ToDictionary(g => g.Key, g => g.Count()),
            ByNmsState = withNms ? devices.GroupBy(d => d.Nms?.State ?? "no record").ToDictionary(g => g.Key, g => g.Count()) : null,
            Faults = FaultPlan.Names.ToDictionary(n => n.Key, n => devices.Count(d => d.Fault == n.Value)),
            StageSeconds = Timings(devices, withNms).ToDictionary(t => FleetStageNames.Of(t.Stage), t => new { t.Devices, t.P50, t.P95, t.Max }),
            Results = devices.Select(d => new
            {
                d.Serial,
                d.PresentedSerial,
                Fault = FaultPlan.NameOf(d.Fault),
                FinalStage = FleetStageNames.Of(d.LastStage),
                FinalState = FinalState(d),
                Error = d.Error is { } e ? new { Stage = FleetStageNames.Of(e.Stage), e.Reason, e.Detail } : null,
                Stages = FleetDevice.Stages.Where(d.Reached).ToDictionary(FleetStageNames.Of, s => d.At(s)!.Value),
                Durations = FleetDevice.Stages.Where(s => d.SecondsTo(s) is not null).ToDictionary(FleetStageNames.Of, s => d.SecondsTo(s)!.Value),
                CallHomeConnections = d.CallHome?.Connections,
                d.CallHomeFailures,
                RunningConfiguration = d.CallHome?.RunningConfiguration,
                Nms = d.Nms,
            }),
        };
        await using var stream = File.Create(path);
        await JsonSerializer.SerializeAsync(stream, document, Json);
    }

    private static string Seconds(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);
}
