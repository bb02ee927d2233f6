using System.Globalization;
using Spectre.Console;

namespace Onboarding.LoadTest;

/// <summary>One row of an "ours vs baseline (same run)" table.</summary>
internal sealed record Measurement(string Scenario, string Server, string Client, double Value, string Unit, string Detail = "");

internal static class Report
{
    public static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    public static void Header(string title)
    {
        // Wide enough that the table stays one line per row when the output goes to a file.
        AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 200);
        AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "[bold]{0}[/]  {1:u}  cores={2}  loadavg(1/5/15)={3}",
            Markup.Escape(title), DateTimeOffset.UtcNow, Environment.ProcessorCount, LoadAverage());
    }

    /// <summary>Prints the rows; within each scenario the ratio is against the row flagged as the baseline.</summary>
    public static void Print(string title, IReadOnlyList<Measurement> rows, Func<Measurement, bool> isBaseline, string goal)
    {
        var table = new Table().Title(Markup.Escape(title + " — ours vs baseline (same run)"));
        table.AddColumn("scenario").AddColumn("server").AddColumn("client").AddColumn(new TableColumn("result").RightAligned())
            .AddColumn(new TableColumn("vs baseline").RightAligned()).AddColumn("detail");
        foreach (var row in rows)
        {
            var baseline = rows.FirstOrDefault(r => r.Scenario == row.Scenario && isBaseline(r));
            var ratio = baseline is null || baseline.Value == 0 ? "" : (row.Value / baseline.Value).ToString(row.Value / baseline.Value < 0.1 ? "0.0000×" : "0.00×", CultureInfo.InvariantCulture);
            if (baseline is not null && ReferenceEquals(baseline, row))
                ratio = "baseline";
            table.AddRow(Markup.Escape(row.Scenario), Markup.Escape(row.Server), Markup.Escape(row.Client),
                Markup.Escape(row.Value.ToString("N1", CultureInfo.InvariantCulture) + " " + row.Unit), ratio, Markup.Escape(row.Detail));
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "goal: {0}   loadavg after: {1}", Markup.Escape(goal), LoadAverage());
    }
}
