using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Onboarding.Telemetry.Ingestion;

/// <summary>
/// One parsed telemetry payload. Parsing is total (bad input is a reason, never an exception) and a single forward pass
/// over the UTF-8 bytes: the ingester runs it for every message, so it builds no document. Further metrics become two
/// parallel arrays, <see cref="MetricNames"/> and <see cref="MetricValues"/>, as they are stored.
/// </summary>
internal sealed record TelemetryMessage(
    string DeviceId, long DeviceName, double Latitude, double Longitude, double BatteryLevel, DateTimeOffset SignalDate,
    string[] MetricNames, double[] MetricValues)
{
    private const int MaxMetricNameLength = 64;

    /// <summary>Further metrics per reading at most: each is stored with every reading.</summary>
    public const int MaxMetrics = 64;

    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 4 };

    [ThreadStatic]
    private static List<string>? t_names;

    [ThreadStatic]
    private static List<double>? t_values;

    /// <summary>Metric names seen on this thread: devices send the same few names in every reading.</summary>
    [ThreadStatic]
    private static Dictionary<string, string>? t_knownNames;

    private const int MaxKnownNames = 1024;

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

    /// <summary>Serials are at most this long (telemetry.devices.serial_number).</summary>
    public const int MaxSerialLength = 64;

    /// <summary>
    /// Splits <c>devices/&lt;serial&gt;/&lt;leaf&gt;</c>; <see cref="Topic.Other"/> (and a null serial) for anything else,
    /// a serial longer than <see cref="MaxSerialLength"/> included.
    /// </summary>
    public static Topic ParseTopic(string topic, out string? serial)
    {
        serial = null;
        const string prefix = "devices/";
        if (!topic.StartsWith(prefix, StringComparison.Ordinal))
            return Topic.Other;
        var rest = topic.AsSpan(prefix.Length);
        var slash = rest.IndexOf('/');
        if (slash <= 0 || slash > MaxSerialLength)
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
        // One pair of lists per thread, reused: the ingester parses every message on one loop.
        var names = t_names ??= new List<string>(8);
        var values = t_values ??= new List<double>(8);
        names.Clear();
        values.Clear();
        try
        {
            return ParseCore(payload, serial, names, values, out reason);
        }
        catch (JsonException ex)
        {
            reason = $"not JSON: {ex.Message}";
            return null;
        }
    }

    private static TelemetryMessage? ParseCore(ReadOnlySpan<byte> payload, string serial, List<string> names, List<double> values, out string? reason)
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
                if (!TryMetric(ref reader, names, values, out reason))
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

        return new TelemetryMessage(serial, deviceName, latitude, longitude, battery, signalDate, [.. names], [.. values]);
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

    /// <summary>A further metric: a property name of 1 to 64 characters, given once, with a finite number.</summary>
    private static bool TryMetric(ref Utf8JsonReader reader, List<string> names, List<double> values, out string? reason)
    {
        // At the property name. Each UTF-16 unit needs at least one byte of JSON, so a longer raw name is too long.
        if (reader.ValueSpan.Length > 6 * MaxMetricNameLength)
        {
            reason = $"metric names are 1 to {MaxMetricNameLength} characters";
            return false;
        }
        Span<char> buffer = stackalloc char[6 * MaxMetricNameLength];
        var chars = buffer[..reader.CopyString(buffer)];
        if (chars.Length is 0 or > MaxMetricNameLength)
        {
            reason = $"metric names are 1 to {MaxMetricNameLength} characters";
            return false;
        }
        foreach (var c in chars)
        {
            if (char.IsControl(c))
            {
                reason = "metric names must not contain control characters";
                return false;
            }
        }
        var name = KnownName(chars);
        if (names.Count == MaxMetrics)
        {
            reason = $"a reading has at most {MaxMetrics} further metrics";
            return false;
        }
        if (names.Contains(name, StringComparer.Ordinal))
        {
            reason = $"duplicate metric {name}";
            return false;
        }

        reader.Read();
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out var value) || !double.IsFinite(value))
        {
            reason = $"metric {name} must be a number";
            return false;
        }

        names.Add(name);
        values.Add(value);
        reason = null;
        return true;
    }

    private static string KnownName(ReadOnlySpan<char> chars)
    {
        var known = t_knownNames ??= new Dictionary<string, string>(StringComparer.Ordinal);
        if (known.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(chars, out var name))
            return name;
        name = chars.ToString();
        if (known.Count < MaxKnownNames)
            known[name] = name;
        return name;
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
