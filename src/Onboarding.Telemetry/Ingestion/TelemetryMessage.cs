using System.Globalization;
using System.Text.Json;

namespace Onboarding.Telemetry.Ingestion;

/// <summary>One parsed telemetry payload. Parsing is total: bad input is a reason, never an exception.</summary>
internal sealed record TelemetryMessage(
    string DeviceId, long DeviceName, double Latitude, double Longitude, double BatteryLevel, DateTimeOffset SignalDate, string MetricsJson)
{
    private static readonly string[] Required = ["device_id", "device_name", "latitude", "longitude", "battery_level", "signal_date"];

    /// <summary>The serial in <c>devices/&lt;serial&gt;/telemetry</c>, or null for any other topic.</summary>
    public static string? SerialFromTopic(string topic) => SerialFromTopic(topic, "telemetry");

    /// <summary>The serial in <c>devices/&lt;serial&gt;/&lt;leaf&gt;</c>, or null for any other topic.</summary>
    public static string? SerialFromTopic(string topic, string leaf)
    {
        var parts = topic.Split('/');
        return parts.Length == 3 && parts[0] == "devices" && parts[1].Length > 0 && parts[2] == leaf ? parts[1] : null;
    }

    /// <summary>A device's state report, <c>{"applied_version": n}</c>; null (with a reason) if it is anything else.</summary>
    public static int? ParseAppliedVersion(ReadOnlyMemory<byte> payload, out string? reason)
    {
        try
        {
            using var document = JsonDocument.Parse(payload, new JsonDocumentOptions { MaxDepth = 4 });
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("applied_version", out var version)
                && version.ValueKind == JsonValueKind.Number && version.TryGetInt32(out var applied) && applied >= 0)
            {
                reason = null;
                return applied;
            }

            reason = "a state report must be {\"applied_version\": <non-negative integer>}";
            return null;
        }
        catch (JsonException ex)
        {
            reason = $"not JSON: {ex.Message}";
            return null;
        }
    }

    public static TelemetryMessage? Parse(ReadOnlyMemory<byte> payload, out string? reason)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(payload, new JsonDocumentOptions { MaxDepth = 4 });
        }
        catch (JsonException ex)
        {
            reason = $"not JSON: {ex.Message}";
            return null;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                reason = "not a JSON object";
                return null;
            }

            foreach (var name in Required)
            {
                if (!root.TryGetProperty(name, out _))
                {
                    reason = $"missing {name}";
                    return null;
                }
            }

            var deviceId = root.GetProperty("device_id");
            if (deviceId.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(deviceId.GetString()))
            {
                reason = "device_id must be a non-empty string";
                return null;
            }

            var deviceNameElement = root.GetProperty("device_name");
            long deviceName;
            if (deviceNameElement.ValueKind == JsonValueKind.Number && deviceNameElement.TryGetInt64(out var n))
                deviceName = n;
            else if (deviceNameElement.ValueKind == JsonValueKind.String
                     && long.TryParse(deviceNameElement.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var s))
                deviceName = s;
            else
            {
                reason = "device_name must be the number issued with the credentials";
                return null;
            }

            if (!Number(root, "latitude", -90, 90, out var latitude, out reason)
                || !Number(root, "longitude", -180, 180, out var longitude, out reason)
                || !Number(root, "battery_level", 0, 100, out var battery, out reason))
                return null;

            var signal = root.GetProperty("signal_date");
            if (signal.ValueKind != JsonValueKind.String
                || !DateTimeOffset.TryParse(signal.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var signalDate))
            {
                reason = "signal_date must be an ISO 8601 date and time";
                return null;
            }

            var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
            {
                if (Array.IndexOf(Required, property.Name) >= 0)
                    continue;
                if (property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetDouble(out var value) || !double.IsFinite(value))
                {
                    reason = $"metric {property.Name} must be a number";
                    return null;
                }

                if (property.Name.Length > 64)
                {
                    reason = "metric names are at most 64 characters";
                    return null;
                }

                metrics[property.Name] = value;
            }

            reason = null;
            return new TelemetryMessage(deviceId.GetString()!, deviceName, latitude, longitude, battery, signalDate.ToUniversalTime(),
                JsonSerializer.Serialize(metrics));
        }
    }

    private static bool Number(JsonElement root, string name, double min, double max, out double value, out string? reason)
    {
        var element = root.GetProperty(name);
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetDouble(out value) || value < min || value > max)
        {
            value = 0;
            reason = $"{name} must be a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}";
            return false;
        }

        reason = null;
        return true;
    }
}
