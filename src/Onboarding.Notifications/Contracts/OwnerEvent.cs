using System.Text.Json;
using System.Text.Json.Serialization;
using Onboarding.Inventory.Contracts;

namespace Onboarding.Notifications.Contracts;

/// <summary>
/// What the owner is told: the JSON document POSTed to the webhook (and rendered into the e-mail). <c>deliveryId</c> is
/// the receiver's dedup key; it also travels as the <c>X-Onboarding-Delivery</c> header.
/// </summary>
public sealed record OwnerEvent(
    Guid DeliveryId,
    string Event,
    DateTimeOffset OccurredAt,
    Guid CustomerId,
    OwnerEventDevice? Device)
{
    public const string DeviceOnboarded = "device.onboarded";
    public const string DeviceRejected = "device.rejected";
    public const string Test = "test";

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static OwnerEvent Parse(string json) =>
        JsonSerializer.Deserialize<OwnerEvent>(json, Json) ?? throw new JsonException("An owner event document is empty.");

    internal static OwnerEvent For(Guid deliveryId, DeviceStateChanged fact) => new(
        deliveryId,
        fact.To == DeviceState.Onboarded ? DeviceOnboarded : DeviceRejected,
        fact.At,
        fact.CustomerId,
        new OwnerEventDevice(fact.DeviceId, fact.SerialNumber, fact.ManufacturerId, fact.From, fact.To, fact.Source, fact.Detail));
}

/// <param name="Detail">What happened; for a rejection, the reason.</param>
public sealed record OwnerEventDevice(Guid Id, string SerialNumber, Guid ManufacturerId, DeviceState From, DeviceState To, string Source, string Detail);
