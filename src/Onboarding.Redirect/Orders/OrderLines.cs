using System.Text.Json;

namespace Onboarding.Redirect.Orders;

/// <summary>One order of a bulk request, checked for form (not yet against the database).</summary>
internal sealed record OrderLine(int Line, string SerialNumber, Guid NmsProfileId, Guid? DeviceTypeId);

/// <summary>What a bulk body held: the well-formed lines and the reasons of every other one, by line (CSV) or item (JSON).</summary>
internal sealed class OrderLines
{
    public List<OrderLine> Lines { get; } = [];

    /// <summary>Key: "line N" (CSV, counting the header as line 1) or "item N" (JSON array, from 1).</summary>
    public SortedDictionary<int, List<string>> Errors { get; } = [];

    public string Unit { get; private init; } = "line";

    public void AddError(int line, string message)
    {
        if (!Errors.TryGetValue(line, out var messages))
            Errors[line] = messages = [];
        messages.Add(message);
    }

    public const int MaxSerialLength = 128;

    /// <summary>Null when the serial is acceptable: 1–128 printable ASCII characters without spaces.</summary>
    public static string? CheckSerial(string? serial) =>
        string.IsNullOrEmpty(serial) ? "serialNumber is required."
        : serial.Length > MaxSerialLength ? $"serialNumber is longer than {MaxSerialLength} characters."
        : serial.Any(c => c is < '!' or > '~') ? "serialNumber must be printable ASCII without spaces."
        : null;

    /// <summary>
    /// CSV (RFC 4180 without quoting, which no serial or id needs): a header naming the columns <c>serialNumber</c>,
    /// <c>nmsProfileId</c> and optionally <c>deviceTypeId</c>, in any order, then one order per line; blank lines are skipped.
    /// </summary>
    public static OrderLines ParseCsv(string text)
    {
        var result = new OrderLines { Unit = "line" };
        var lines = text.ReplaceLineEndings("\n").Split('\n');
        var header = lines[0].TrimStart('\uFEFF').Split(',').Select(h => h.Trim()).ToList();
        int serialColumn = header.IndexOf("serialNumber"), profileColumn = header.IndexOf("nmsProfileId"), typeColumn = header.IndexOf("deviceTypeId");
        if (serialColumn < 0 || profileColumn < 0 || header.Count != header.Distinct(StringComparer.Ordinal).Count())
        {
            result.AddError(1, "The first line must be a header naming the columns serialNumber, nmsProfileId and optionally deviceTypeId.");
            return result;
        }

        for (var i = 1; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i]))
                continue;
            var lineNumber = i + 1;
            if (lines[i].Contains('"', StringComparison.Ordinal))
            {
                result.AddError(lineNumber, "Quoted fields are not supported (no serial or id needs them).");
                continue;
            }

            var fields = lines[i].Split(',').Select(f => f.Trim()).ToArray();
            if (fields.Length != header.Count)
            {
                result.AddError(lineNumber, $"Expected {header.Count} fields, found {fields.Length}.");
                continue;
            }

            result.Check(lineNumber, fields[serialColumn], fields[profileColumn], typeColumn < 0 ? null : fields[typeColumn]);
        }

        return result;
    }

    /// <summary>JSON: an array of <c>{"serialNumber", "nmsProfileId", "deviceTypeId"?}</c>, as the single-order endpoint takes.</summary>
    public static OrderLines ParseJson(JsonElement root)
    {
        var result = new OrderLines { Unit = "item" };
        if (root.ValueKind != JsonValueKind.Array)
        {
            result.AddError(0, "The body must be a JSON array of orders.");
            return result;
        }

        var item = 0;
        foreach (var element in root.EnumerateArray())
        {
            item++;
            if (element.ValueKind != JsonValueKind.Object)
            {
                result.AddError(item, "Must be an object with serialNumber, nmsProfileId and optionally deviceTypeId.");
                continue;
            }

            string? Text(string name) => element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()
                : element.TryGetProperty(name, out value) && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined) ? "\u0000" : null;
            result.Check(item, Text("serialNumber"), Text("nmsProfileId"), Text("deviceTypeId"));
        }

        return result;
    }

    private void Check(int line, string? serial, string? profileId, string? deviceTypeId)
    {
        var valid = true;
        if (CheckSerial(serial) is { } serialError)
        {
            AddError(line, serialError);
            valid = false;
        }

        if (!Guid.TryParse(profileId, out var profile))
        {
            AddError(line, string.IsNullOrEmpty(profileId) ? "nmsProfileId is required." : "nmsProfileId must be a UUID.");
            valid = false;
        }

        Guid? type = null;
        if (!string.IsNullOrEmpty(deviceTypeId))
        {
            if (Guid.TryParse(deviceTypeId, out var parsed))
            {
                type = parsed;
            }
            else
            {
                AddError(line, "deviceTypeId must be a UUID.");
                valid = false;
            }
        }

        if (valid)
            Lines.Add(new OrderLine(line, serial!, profile, type));
    }

    /// <summary>The errors as ValidationProblem fields, at most <paramref name="max"/> of them (then one "more" entry).</summary>
    public Dictionary<string, string[]> ToProblemErrors(int max = 1000)
    {
        var errors = Errors.Take(max).ToDictionary(e => e.Key == 0 ? "body" : $"{Unit} {e.Key}", e => e.Value.ToArray());
        if (Errors.Count > max)
            errors["more"] = [$"{Errors.Count - max} more {Unit}s have errors."];
        return errors;
    }
}
