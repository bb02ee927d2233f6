namespace Onboarding.Notifications.Data;

/// <summary>A customer's webhook: where owner events are POSTed, and the secret they are signed with (encrypted).</summary>
internal sealed class Webhook
{
    public Guid CustomerId { get; set; }

    public required string Url { get; set; }

    /// <summary>The signing secret, encrypted with Data Protection (<see cref="Channels.WebhookSecrets"/>).</summary>
    public required string ProtectedSecret { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}
