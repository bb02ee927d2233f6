using System.Net;
using System.Text.Json;
using Onboarding.DeviceSim.Fleet;

namespace Onboarding.DeviceSim.Demo;

/// <summary>
/// The customer's view of the NMS, read through its REST API with the customer's key: how many devices are Onboarded
/// now (for the live view), and each device's state and timeline after the run (for the report).
/// </summary>
internal sealed class NmsAccount(HttpClient api, string customerKey)
{
    /// <summary>Timeline entries that record trouble without a change of state (DESIGN.md: the next call home tries again).</summary>
    private static readonly string[] TroublePrefixes = ["pre-configuration failed", "call home refused"];

    public async Task<int> CountAsync(string state, CancellationToken cancellationToken)
    {
        using var document = await GetAsync($"/api/devices?state={state}&pageSize=1", cancellationToken);
        return document?.RootElement.GetProperty("total").GetInt32() ?? 0;
    }

    /// <summary>Fills in <see cref="FleetDevice.Nms"/>, and the time the NMS recorded Onboarded, from the device's timeline.</summary>
    public async Task ReadAsync(FleetDevice device, CancellationToken cancellationToken)
    {
        using var document = await GetAsync($"/api/devices/{Uri.EscapeDataString(device.PresentedSerial)}", cancellationToken);
        if (document is null)
        {
            device.Nms = new NmsView(null, null, null);
            return;
        }
        var root = document.RootElement;
        var state = root.GetProperty("state").GetString()!;
        var steps = root.GetProperty("timeline").EnumerateArray()
            .Select(e => (At: e.GetProperty("at").GetDateTimeOffset(), State: e.GetProperty("state").GetString()!, Detail: e.GetProperty("detail").GetString() ?? ""))
            .ToList();
        if (steps.FirstOrDefault(s => s.State == "Onboarded") is { State: not null } onboarded)
            device.Reach(FleetStage.Onboarded, onboarded.At);
        var trouble = steps.LastOrDefault(s => s.State == "Rejected" || TroublePrefixes.Any(p => s.Detail.StartsWith(p, StringComparison.Ordinal)));
        string? reason = trouble.Detail is { } detail
            ? (state == "Onboarded" ? "recovered; the timeline noted: " : "") + detail
            : state == "Onboarded" || steps.Count == 0 ? null : $"last step: {steps[^1].Detail}";
        device.Nms = new NmsView(root.GetProperty("id").GetGuid(), state, reason);
    }

    /// <summary>The JSON answer, or null for 404.</summary>
    private async Task<JsonDocument?> GetAsync(string path, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-Api-Key", customerKey);
        using var response = await DemoSetup.SendOrExplainAsync(api, request, "reading the NMS", cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
            return null;
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw new DemoSetupException($"GET {path} answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text);
    }
}
