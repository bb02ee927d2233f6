namespace Onboarding.Accounts.Api;

/// <param name="Name">The customer's organisation name.</param>
/// <param name="ContactEmail">Where the NMS sends notices for this customer.</param>
/// <param name="NotificationWebhookUrl">Optional http(s) URL the NMS calls when devices are onboarded.</param>
public sealed record SignUpRequest(string? Name, string? ContactEmail, string? NotificationWebhookUrl);

/// <param name="ApiKey">Shown only in this response; the NMS keeps only its hash. Send it as <c>X-Api-Key</c>.</param>
public sealed record SignUpResponse(Guid Id, string Name, string ContactEmail, string? NotificationWebhookUrl, DateTimeOffset CreatedAt, string ApiKey);

public sealed record CustomerProfile(Guid Id, string Name, string ContactEmail, string? NotificationWebhookUrl, DateTimeOffset CreatedAt);

/// <param name="ApiKey">The new key, shown only once. The previous key stops working at once.</param>
public sealed record ApiKeyRotated(string ApiKey);
