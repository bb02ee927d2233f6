using Onboarding.Notifications.Contracts;

namespace Onboarding.Notifications.Api;

/// <param name="Url">An absolute https URL (http only where <c>Notifications:AllowHttpWebhooks</c> is set), no credentials, at most 2048 characters.</param>
public sealed record WebhookRequest(string? Url);

/// <summary>The webhook as configured. <paramref name="Secret"/> is shown once, when it is set (PUT); it signs every delivery.</summary>
public sealed record WebhookView(string Url, DateTimeOffset CreatedAt, string? Secret, string SignatureHeader, string SignedContent);

/// <summary>One notification: an owner event on one channel, with every attempt.</summary>
public sealed record NotificationView(
    Guid Id,
    NotificationChannel Channel,
    string Event,
    Guid? DeviceId,
    string? SerialNumber,
    string Target,
    DeliveryStatus Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset? FinishedAt,
    string? LastError,
    IReadOnlyList<NotificationAttemptView> Attempts);

public sealed record NotificationAttemptView(int Number, DateTimeOffset At, bool Succeeded, int? StatusCode, string? Error);

/// <summary>The deliveries a test event created, one per configured channel.</summary>
public sealed record TestNotificationSent(Guid EventId, IReadOnlyList<Guid> Deliveries);
