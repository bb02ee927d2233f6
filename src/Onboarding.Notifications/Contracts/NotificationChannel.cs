using System.Text.Json.Serialization;

namespace Onboarding.Notifications.Contracts;

[JsonConverter(typeof(JsonStringEnumConverter<NotificationChannel>))]
public enum NotificationChannel
{
    Webhook,
    Email,
}

[JsonConverter(typeof(JsonStringEnumConverter<DeliveryStatus>))]
public enum DeliveryStatus
{
    /// <summary>Not delivered yet; its outbox message will try (again).</summary>
    Pending,

    Delivered,

    /// <summary>Gave up after <c>Notifications:MaxAttempts</c>; the last error says why.</summary>
    Dead,
}
