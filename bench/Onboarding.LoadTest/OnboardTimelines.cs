using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

namespace Onboarding.LoadTest;

/// <summary>
/// After the onboard run: every device's NMS timeline (GET /api/devices/{id}/timeline) and every order's timeline at the
/// redirect server (GET /api/redirect/orders/{id}), read through the APIs after the clock stopped; the per-stage
/// latencies and the checks come from their timestamps and states.
/// </summary>
internal static class OnboardTimelines
{
    public sealed record Step(DateTimeOffset At, string State, string Detail);

    public sealed record Device(string Serial, string State, IReadOnlyList<Step> Steps);

    public sealed record Timelines(IReadOnlyDictionary<string, Device> Devices, IReadOnlyDictionary<string, IReadOnlyList<Step>> Orders);

    public sealed record Analysis(IReadOnlyList<string> Stages, IReadOnlyList<(bool Ok, string Text)> Checks);

    public static async Task<Timelines> ReadAsync(HttpClient nms, HttpClient redirect, string profileId, CancellationToken cancellationToken)
    {
        var devices = new ConcurrentDictionary<string, Device>(StringComparer.Ordinal);
        var orders = new ConcurrentDictionary<string, IReadOnlyList<Step>>(StringComparer.Ordinal);
        var deviceIds = await PagesAsync(nms, "/api/devices?", cancellationToken);
        var orderIds = await PagesAsync(redirect, $"/api/redirect/orders?nmsProfileId={profileId}&", cancellationToken);
        await Parallel.ForEachAsync(deviceIds, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (id, ct) =>
        {
            var timeline = await nms.GetFromJsonAsync<JsonElement>($"/api/devices/{id}/timeline", ct);
            var serial = timeline.GetProperty("serialNumber").GetString()!;
            devices[serial] = new Device(serial, timeline.GetProperty("state").GetString()!, Steps(timeline.GetProperty("steps")));
        });
        await Parallel.ForEachAsync(orderIds, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (id, ct) =>
        {
            var order = await redirect.GetFromJsonAsync<JsonElement>($"/api/redirect/orders/{id}", ct);
            orders[order.GetProperty("order").GetProperty("serialNumber").GetString()!] = Steps(order.GetProperty("timeline"));
        });
        return new Timelines(devices, orders);
    }

    private static async Task<List<string>> PagesAsync(HttpClient http, string path, CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        for (var page = 1; ; page++)
        {
            var list = await http.GetFromJsonAsync<JsonElement>($"{path}page={page}&pageSize=500", cancellationToken);
            var items = list.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").ToString()).ToList();
            ids.AddRange(items);
            if (items.Count < 500)
                return ids;
        }
    }

    private static List<Step> Steps(JsonElement steps) => steps.EnumerateArray()
        .Select(s => new Step(s.GetProperty("at").GetDateTimeOffset(), s.GetProperty("state").GetString()!,
            s.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()! : ""))
        .OrderBy(s => s.At).ToList();

    public static Analysis Analyse(Timelines timelines, WebhookReceiver receiver, IReadOnlyList<string> serials)
    {
        var stages = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        void Add(string stage, DateTimeOffset? from, DateTimeOffset? to)
        {
            if (from is { } f && to is { } t)
                (stages.TryGetValue(stage, out var list) ? list : stages[stage] = []).Add((t - f).TotalMilliseconds);
        }
        var onboardedTwice = new List<string>();
        var notOnboarded = new Dictionary<string, int>(StringComparer.Ordinal);
        var missingOrders = 0;
        var notRedirected = 0;
        foreach (var serial in serials)
        {
            timelines.Orders.TryGetValue(serial, out var order);
            if (order is null)
                missingOrders++;
            var authenticated = order?.FirstOrDefault(s => s.State == "Authenticated")?.At;
            var redirected = order?.FirstOrDefault(s => s.State == "Redirected")?.At;
            if (order is not null && redirected is null)
                notRedirected++;
            if (!timelines.Devices.TryGetValue(serial, out var device))
            {
                notOnboarded["not at the NMS"] = notOnboarded.GetValueOrDefault("not at the NMS") + 1;
                continue;
            }
            if (device.State != "Onboarded")
                notOnboarded[device.State] = notOnboarded.GetValueOrDefault(device.State) + 1;
            // A step moving the device into Onboarded: its state is Onboarded and the step before it was not.
            var entries = device.Steps.Where((s, i) => s.State == "Onboarded" && (i == 0 || device.Steps[i - 1].State != "Onboarded")).Count();
            if (entries > 1)
                onboardedTwice.Add($"{serial} ({entries}×)");
            var bootstrapComplete = device.Steps.FirstOrDefault(s => s.Detail.Contains("bootstrap-complete", StringComparison.Ordinal))?.At;
            var calledHome = device.Steps.FirstOrDefault(s => s.State == "CalledHome")?.At;
            var configured = device.Steps.FirstOrDefault(s => s.State == "Configured")?.At;
            var onboarded = device.Steps.FirstOrDefault(s => s.State == "Onboarded")?.At;
            Add("1 redirect: Authenticated → Redirected (redirect server; hand-off to the NMS inside)", authenticated, redirected);
            Add("2 NMS bootstrap: Redirected → bootstrap-complete (NMS timeline)", redirected, bootstrapComplete);
            Add("3 wait: bootstrap-complete → CalledHome (DeviceSim onboard calls home once ALL devices bootstrapped)", bootstrapComplete, calledHome);
            Add("4 call home: CalledHome → Configured", calledHome, configured);
            Add("5 call home: Configured → Onboarded (get-config verification)", configured, onboarded);
            Add("6 notify: Onboarded → first webhook receipt", onboarded, receiver.FirstNotified(serial));
            Add("7 device: Authenticated → Onboarded", authenticated, onboarded);
        }

        var lines = new List<string> { "per-stage latency, ms (timeline timestamps of the host; receipt time of the receiver, same clock):" };
        foreach (var (stage, values) in stages.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            values.Sort();
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"  {stage,-105} n={values.Count,6}  p50 {Percentile(values, 0.5),8:0}  p95 {Percentile(values, 0.95),8:0}  max {values[^1],8:0}"));
        }

        var twice = receiver.DevicesNotifiedTwice;
        var checks = new List<(bool, string)>
        {
            (notOnboarded.Count == 0, notOnboarded.Count == 0
                ? $"every device Onboarded at the NMS ({timelines.Devices.Count} timelines read)"
                : "not Onboarded: " + string.Join(", ", notOnboarded.Select(p => $"{p.Key} {p.Value}"))),
            (missingOrders == 0 && notRedirected == 0, $"every order redirected at the redirect server ({missingOrders} orders missing, {notRedirected} never Redirected)"),
            (onboardedTwice.Count == 0, onboardedTwice.Count == 0
                ? "no device onboarded twice (one step into Onboarded per timeline)"
                : $"{onboardedTwice.Count} devices onboarded more than once: {string.Join(", ", onboardedTwice.Take(5))}"),
            (twice.Count == 0, twice.Count == 0
                ? "no device got two notifications (one device.onboarded delivery id per device)"
                : $"{twice.Count} devices got two or more device.onboarded delivery ids: {string.Join(", ", twice.Take(5))}"),
            (receiver.Invalid == 0, $"every webhook request carried a valid signature ({receiver.Invalid} refused with 401)"),
            (receiver.RedeliveredAfter2xx == 0, $"no delivery id received again after our 2xx ({receiver.RedeliveredAfter2xx}; {receiver.Requests} valid requests, " +
                $"{receiver.OtherEvents} other events; the receiver answers every valid request 204, so any repeat is a redelivery the README allows only for a crash between our 2xx and the NMS's commit)"),
        };
        return new Analysis(lines, checks);
    }

    public static double Percentile(List<double> sorted, double q) => sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)(q * sorted.Count))];
}
