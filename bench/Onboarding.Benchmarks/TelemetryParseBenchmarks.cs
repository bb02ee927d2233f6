using System.Globalization;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Onboarding.Telemetry.Ingestion;

namespace Onboarding.Benchmarks;

/// <summary>
/// Host CPU per telemetry message for validating one reading and producing its further metrics as stored (two parallel
/// arrays of names and values): our one-pass <see cref="TelemetryMessage.Parse"/> against the straightforward way (the
/// ingester's first version): a <see cref="JsonDocument"/>, property look-ups, and the further metrics collected from an
/// enumeration of the object. Both check the same fields and ranges. The payload is the load test's (about 230 bytes).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(iterationCount: 5, warmupCount: 2)]
public class TelemetryParseBenchmarks
{
    private static readonly string[] Required = ["device_id", "device_name", "latitude", "longitude", "battery_level", "signal_date"];

    private readonly byte[] _payload = Encoding.UTF8.GetBytes(
        """{"device_id":"TB1795243842-0007","device_name":1000248,"latitude":48.1042,"longitude":11.57,"battery_level":73,"signal_date":"2025-09-14T05:06:07.1230000Z","seq":2712,"temperature":21.5,"signal_strength":-71}""");

    [Benchmark(Baseline = true)]
    public (string[] Names, double[] Values)? JsonDocumentLookups()
    {
        using var document = JsonDocument.Parse(_payload, new JsonDocumentOptions { MaxDepth = 4 });
        var root = document.RootElement;
        foreach (var name in Required)
        {
            if (!root.TryGetProperty(name, out _))
                return null;
        }
        if (root.GetProperty("device_id").GetString() != "TB1795243842-0007" || !root.GetProperty("device_name").TryGetInt64(out _)
            || !InRange(root, "latitude", -90, 90) || !InRange(root, "longitude", -180, 180) || !InRange(root, "battery_level", 0, 100)
            || !DateTimeOffset.TryParse(root.GetProperty("signal_date").GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _))
            return null;
        var names = new List<string>();
        var values = new List<double>();
        foreach (var property in root.EnumerateObject())
        {
            if (Array.IndexOf(Required, property.Name) >= 0)
                continue;
            if (!property.Value.TryGetDouble(out var value) || names.Contains(property.Name))
                return null;
            names.Add(property.Name);
            values.Add(value);
        }
        return ([.. names], [.. values]);
    }

    [Benchmark]
    public (string[] Names, double[] Values)? OnePassReader() =>
        TelemetryMessage.Parse(_payload, "TB1795243842-0007", out _) is { } message ? (message.MetricNames, message.MetricValues) : null;

    /// <summary>For <c>--check</c>: both produce the same metrics.</summary>
    public bool Agree() =>
        JsonDocumentLookups() is { } theirs && OnePassReader() is { } ours
        && theirs.Names.SequenceEqual(ours.Names) && theirs.Values.SequenceEqual(ours.Values);

    private static bool InRange(JsonElement root, string name, double min, double max) =>
        root.GetProperty(name).TryGetDouble(out var value) && value >= min && value <= max;
}
