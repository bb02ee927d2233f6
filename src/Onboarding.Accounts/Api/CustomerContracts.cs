namespace Onboarding.Accounts.Api;

/// <param name="Name">The customer's organisation name.</param>
/// <param name="ContactEmail">Where the NMS sends notices for this customer.</param>
/// <param name="NotificationWebhookUrl">Not accepted here: owner notifications are configured with <c>PUT /api/notifications/webhook</c>, which shows the signing secret once. Kept in the contract only so a client that still sends it gets a 400 that says so, instead of being silently ignored.</param>
public sealed record SignUpRequest(string? Name, string? ContactEmail, string? NotificationWebhookUrl = null);

/// <param name="ApiKey">Shown only in this response; the NMS keeps only its hash. Send it as <c>X-Api-Key</c>.</param>
public sealed record SignUpResponse(Guid Id, string Name, string ContactEmail, DateTimeOffset CreatedAt, string ApiKey);

public sealed record CustomerProfile(Guid Id, string Name, string ContactEmail, DateTimeOffset CreatedAt);

/// <param name="ApiKey">The new key, shown only once. The previous key stops working at once.</param>
public sealed record ApiKeyRotated(string ApiKey);
