using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Onboarding.Inventory.Contracts;

/// <summary>
/// The one identity of a device, issued by the device module when the device is bookkept and used by every module
/// (telemetry included). A serial number is not an identity: two customers may bookkeep the same one.
/// </summary>
[JsonConverter(typeof(DeviceIdJsonConverter))]
public readonly record struct DeviceId(Guid Value) : IParsable<DeviceId>
{
    public static DeviceId New() => new(Guid.CreateVersion7());

    public override string ToString() => Value.ToString("D");

    public static DeviceId Parse(string s, IFormatProvider? provider) =>
        TryParse(s, provider, out var id) ? id : throw new FormatException($"'{s}' is not a device id (a UUID such as 0193a5c2-7f1e-7c3a-9d2b-5e8f0a1b2c3d).");

    public static bool TryParse([NotNullWhen(true)] string? s, IFormatProvider? provider, out DeviceId result)
    {
        // The empty UUID is never issued: refusing it keeps "no id" from passing for one.
        if (Guid.TryParse(s, out var value) && value != Guid.Empty)
        {
            result = new DeviceId(value);
            return true;
        }

        result = default;
        return false;
    }
}

/// <summary>A device id is a plain UUID string in JSON, as it is in URLs.</summary>
internal sealed class DeviceIdJsonConverter : JsonConverter<DeviceId>
{
    public override DeviceId Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        DeviceId.TryParse(reader.GetString(), null, out var id) ? id : throw new JsonException("A device id must be a non-empty UUID.");

    public override void Write(Utf8JsonWriter writer, DeviceId value, JsonSerializerOptions options) => writer.WriteStringValue(value.Value);
}
