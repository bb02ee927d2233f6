namespace Onboarding.Notifications.Channels;

/// <summary>What one attempt to deliver came to.</summary>
/// <param name="StatusCode">The HTTP status (webhook) or SMTP reply code (e-mail), when the peer answered.</param>
internal sealed record DeliveryOutcome(bool Succeeded, int? StatusCode, string? Error)
{
    public static DeliveryOutcome Success(int? statusCode) => new(true, statusCode, null);

    public static DeliveryOutcome Failure(int? statusCode, string error) => new(false, statusCode, error);
}
