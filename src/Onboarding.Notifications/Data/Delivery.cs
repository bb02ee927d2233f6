using Onboarding.Notifications.Contracts;

namespace Onboarding.Notifications.Data;

/// <summary>One owner event on one channel of one customer, sent (and retried) by its own outbox message.</summary>
internal sealed class Delivery
{
    public Guid Id { get; set; }

    public Guid CustomerId { get; set; }

    /// <summary>The outbox message (or test request) this delivery was made for; unique with <see cref="Channel"/>.</summary>
    public Guid SourceMessageId { get; set; }

    public NotificationChannel Channel { get; set; }

    /// <summary><c>device.onboarded</c>, <c>device.rejected</c> or <c>test</c>.</summary>
    public required string Event { get; set; }

    public Guid? DeviceId { get; set; }

    public string? SerialNumber { get; set; }

    /// <summary>The URL or e-mail address it was (last) sent to.</summary>
    public required string Target { get; set; }

    /// <summary>The exact JSON document sent, the same on every attempt.</summary>
    public required string Body { get; set; }

    public DeliveryStatus Status { get; set; }

    public int Attempts { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    public string? LastError { get; set; }

    public List<DeliveryAttempt> AttemptLog { get; } = [];
}

/// <summary>One try of a delivery: when, and what the receiver (or the network) said.</summary>
internal sealed class DeliveryAttempt
{
    public long Id { get; set; }

    public Guid DeliveryId { get; set; }

    public int Number { get; set; }

    public DateTimeOffset At { get; set; }

    public bool Succeeded { get; set; }

    /// <summary>The HTTP status (webhook) or SMTP reply code (e-mail), when there was one.</summary>
    public int? StatusCode { get; set; }

    public string? Error { get; set; }
}
