using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Onboarding.Telemetry.Ingestion;

/// <summary>
/// One parsed telemetry payload. Parsing is total (bad input is a reason, never an exception) and a single forward pass
/// over the UTF-8 bytes: the ingester runs it for every message, so it builds no document and copies only the further
/// metrics, verbatim, into <see cref="MetricsJson"/>.
/// </summary>
internal sealed record TelemetryMessage(
    string DeviceId, long DeviceName, double Latitude, double Longitude, double BatteryLevel, DateTimeOffset SignalDate, string MetricsJson)
{
    private const int MaxMetricNameLength = 64;
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 4 };

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_metrics;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    [Flags]
    private enum Field
    {
        None = 0,
        DeviceId = 1,
        DeviceName = 2,
        Latitude = 4,
        Longitude = 8,
        BatteryLevel = 16,
        SignalDate = 32,
        All = 63,
    }

    /// <summary>What a device publishes on: <c>devices/&lt;serial&gt;/telemetry</c> or <c>devices/&lt;serial&gt;/state</c>.</summary>
    public enum Topic
    {
        Other,
        Telemetry,
        State,
    }

    /// <summary>Splits <c>devices/&lt;serial&gt;/&lt;leaf&gt;</c>; <see cref="Topic.Other"/> (and a null serial) for anything else.</summary>
    public static Topic ParseTopic(string topic, out string? serial)
    {
        serial = null;
        const string prefix = "devices/";
        if (!topic.StartsWith(prefix, StringComparison.Ordinal))
            return Topic.Other;
        var rest = topic.AsSpan(prefix.Length);
        var slash = rest.IndexOf('/');
        if (slash <= 0)
            return Topic.Other;
        var leaf = rest[(slash + 1)..];
        var kind = leaf.SequenceEqual("telemetry") ? Topic.Telemetry : leaf.SequenceEqual("state") ? Topic.State : Topic.Other;
        if (kind != Topic.Other)
            serial = rest[..slash].ToString();
        return kind;
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

    /// <summary>
    /// Parses a reading published on <c>devices/<paramref name="serial"/>/telemetry</c>: its device_id must be that serial
    /// (a device cannot report for another). Null, with the reason, for anything that is not a valid reading.
    /// </summary>
    public static TelemetryMessage? Parse(ReadOnlySpan<byte> payload, string serial, out string? reason)
    {
        // One buffer and writer per thread, reused: the ingester parses every message on one loop.
        var metrics = t_metrics ??= new ArrayBufferWriter<byte>(256);
        metrics.ResetWrittenCount();
        try
        {
            return ParseCore(payload, serial, metrics, out reason);
        }
        catch (JsonException ex)
        {
            reason = $"not JSON: {ex.Message}";
            return null;
        }
    }

    private static TelemetryMessage? ParseCore(ReadOnlySpan<byte> payload, string serial, ArrayBufferWriter<byte> metricsBuffer, out string? reason)
    {
        var reader = new Utf8JsonReader(payload, ReaderOptions);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            // Reading the rest proves the bytes are JSON at all, so the reason says which of the two it is.
            while (reader.Read())
            {
            }
            reason = "not a JSON object";
            return null;
        }

        var metrics = t_writer ??= new Utf8JsonWriter(metricsBuffer);
        metrics.Reset(metricsBuffer);
        metrics.WriteStartObject();
        var seen = Field.None;
        long deviceName = 0;
        double latitude = 0, longitude = 0, battery = 0;
        var signalDate = default(DateTimeOffset);
        reason = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var field = FieldOf(ref reader);
            if (field == Field.None)
            {
                if (!TryMetric(ref reader, metrics, out reason))
                    return null;
                continue;
            }
            if ((seen & field) != 0)
                return Refuse($"duplicate {Name(field)}", out reason);
            seen |= field;
            reader.Read();
            switch (field)
            {
                case Field.DeviceId:
                    if (reader.TokenType != JsonTokenType.String || reader.ValueSpan.IsEmpty)
                        return Refuse("device_id must be a non-empty string", out reason);
                    if (!reader.ValueTextEquals(serial))
                        return Refuse($"device_id '{Truncate(reader.GetString()!, 64)}' is not the serial in the topic '{serial}'", out reason);
                    break;
                case Field.DeviceName:
                    if (!TryDeviceName(ref reader, out deviceName))
                        return Refuse("device_name must be the number issued with the credentials", out reason);
                    break;
                case Field.Latitude:
                    if (!Number(ref reader, "latitude", -90, 90, out latitude, out reason))
                        return null;
                    break;
                case Field.Longitude:
                    if (!Number(ref reader, "longitude", -180, 180, out longitude, out reason))
                        return null;
                    break;
                case Field.BatteryLevel:
                    if (!Number(ref reader, "battery_level", 0, 100, out battery, out reason))
                        return null;
                    break;
                default:
                    if (!TrySignalDate(ref reader, out signalDate))
                        return Refuse("signal_date must be an ISO 8601 date and time", out reason);
                    break;
            }
        }

        // The loop ends at the object's end; anything after it is not one JSON value.
        while (reader.Read())
        {
        }
        for (var field = Field.DeviceId; field < Field.All; field = (Field)((int)field << 1))
        {
            if ((seen & field) == 0)
                return Refuse($"missing {Name(field)}", out reason);
        }

        metrics.WriteEndObject();
        metrics.Flush();
        return new TelemetryMessage(serial, deviceName, latitude, longitude, battery, signalDate, Encoding.UTF8.GetString(metricsBuffer.WrittenSpan));
    }

    private static Field FieldOf(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("device_id"u8) ? Field.DeviceId
        : reader.ValueTextEquals("device_name"u8) ? Field.DeviceName
        : reader.ValueTextEquals("latitude"u8) ? Field.Latitude
        : reader.ValueTextEquals("longitude"u8) ? Field.Longitude
        : reader.ValueTextEquals("battery_level"u8) ? Field.BatteryLevel
        : reader.ValueTextEquals("signal_date"u8) ? Field.SignalDate
        : Field.None;

    private static string Name(Field field) => field switch
    {
        Field.DeviceId => "device_id",
        Field.DeviceName => "device_name",
        Field.Latitude => "latitude",
        Field.Longitude => "longitude",
        Field.BatteryLevel => "battery_level",
        _ => "signal_date",
    };

    private static bool TryDeviceName(ref Utf8JsonReader reader, out long deviceName)
    {
        deviceName = 0;
        if (reader.TokenType == JsonTokenType.Number)
            return reader.TryGetInt64(out deviceName);
        // Issued as a number; a quoted number is accepted (some device SDKs quote every value).
        return reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped
            && Utf8Parser.TryParse(reader.ValueSpan, out deviceName, out var consumed) && consumed == reader.ValueSpan.Length
            && reader.ValueSpan[0] is >= (byte)'0' and <= (byte)'9';
    }

    private static bool TrySignalDate(ref Utf8JsonReader reader, out DateTimeOffset signalDate)
    {
        signalDate = default;
        if (reader.TokenType != JsonTokenType.String)
            return false;
        // ISO 8601 with an offset keeps it; without one the time is taken as UTC, never as the server's local time.
        if (!reader.TryGetDateTime(out var dateTime))
            return false;
        if (dateTime.Kind == DateTimeKind.Unspecified)
        {
            signalDate = new DateTimeOffset(dateTime, TimeSpan.Zero);
            return true;
        }
        if (!reader.TryGetDateTimeOffset(out signalDate))
            return false;
        signalDate = signalDate.ToUniversalTime();
        return true;
    }

    /// <summary>A further metric: any property name up to 64 characters with a finite number, copied verbatim.</summary>
    private static bool TryMetric(ref Utf8JsonReader reader, Utf8JsonWriter metrics, out string? reason)
    {
        // At the property name. An escaped name is decoded; a plain one is already validated UTF-8.
        var escaped = reader.ValueIsEscaped ? reader.GetString()! : null;
        var raw = reader.ValueSpan;
        var length = escaped?.Length ?? Encoding.UTF8.GetCharCount(raw);
        if (length > MaxMetricNameLength)
        {
            reason = $"metric names are at most {MaxMetricNameLength} characters";
            return false;
        }
        if (escaped is not null && escaped.Any(char.IsControl))
        {
            reason = "metric names must not contain control characters";
            return false;
        }

        reader.Read();
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out var value) || !double.IsFinite(value))
        {
            reason = $"metric {Truncate(escaped ?? Encoding.UTF8.GetString(raw), MaxMetricNameLength)} must be a number";
            return false;
        }

        if (escaped is null)
            metrics.WritePropertyName(raw);
        else
            metrics.WritePropertyName(escaped);
        metrics.WriteRawValue(reader.ValueSpan, skipInputValidation: true);
        reason = null;
        return true;
    }

    private static bool Number(ref Utf8JsonReader reader, string name, double min, double max, out double value, out string? reason)
    {
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out value) || !(value >= min && value <= max))
        {
            value = 0;
            reason = $"{name} must be a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}";
            return false;
        }

        reason = null;
        return true;
    }

    private static TelemetryMessage? Refuse(string why, out string? reason)
    {
        reason = why;
        return null;
    }

    private static string Truncate(string value, int length) => value.Length <= length ? value : value[..length];
}
