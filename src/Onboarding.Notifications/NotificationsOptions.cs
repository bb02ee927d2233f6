using System.Net.Mail;
using Microsoft.Extensions.Options;
using Onboarding.ServiceDefaults.Outbox;

namespace Onboarding.Notifications;

/// <summary>The <c>Notifications</c> configuration section.</summary>
public sealed class NotificationsOptions
{
    public const string SectionName = "Notifications";

    /// <summary>
    /// Attempts per delivery before it is marked dead. Must stay below <c>Outbox:MaxAttempts</c>: the delivery decides
    /// its own end (and records it where the customer sees it) before the outbox would dead-letter the message, even
    /// when one attempt was lost to a crash.
    /// </summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>Accept <c>http://</c> webhook URLs (tests, a receiver on loopback). Off: only https.</summary>
    public bool AllowHttpWebhooks { get; set; }

    /// <summary>
    /// Let webhooks reach loopback, private, link-local and other non-public addresses. Off by default, so a customer's
    /// URL cannot make the NMS probe its own network (SSRF); checked on every connection, after DNS resolution.
    /// </summary>
    public bool AllowPrivateNetworkWebhooks { get; set; }

    /// <summary>How long one webhook POST may take (connect to response headers) before the attempt counts as failed.</summary>
    public TimeSpan WebhookTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The Data Protection key ring that encrypts webhook secrets; default <c>notifications-data-protection</c> in the key store.</summary>
    public string? DataProtectionDirectory { get; set; }

    public SmtpOptions Smtp { get; set; } = new();
}

public enum SmtpTls
{
    /// <summary>Plain SMTP (a relay on loopback, tests).</summary>
    None,

    /// <summary>STARTTLS, required (RFC 3207).</summary>
    StartTls,

    /// <summary>Implicit TLS from the first byte (RFC 8314, port 465).</summary>
    SslOnConnect,
}

/// <summary><c>Notifications:Smtp</c>: e-mail is sent only when <see cref="Host"/> is set.</summary>
public sealed class SmtpOptions
{
    public string? Host { get; set; }

    public int Port { get; set; } = 587;

    public string? From { get; set; }

    public SmtpTls UseTls { get; set; } = SmtpTls.StartTls;

    public string? User { get; set; }

    public string? Password { get; set; }

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    public bool Enabled => !string.IsNullOrWhiteSpace(Host);
}

/// <summary>Refuses settings that could not work, naming the key, at start-up.</summary>
internal sealed class NotificationsOptionsValidator(IOptions<OutboxOptions> outbox) : IValidateOptions<NotificationsOptions>
{
    public ValidateOptionsResult Validate(string? name, NotificationsOptions options)
    {
        var errors = new List<string>();
        var outboxMax = outbox.Value.MaxAttempts;
        if (options.MaxAttempts < 1 || options.MaxAttempts >= outboxMax)
            errors.Add($"Notifications:MaxAttempts must be between 1 and Outbox:MaxAttempts - 1 ({outboxMax - 1}).");
        if (options.WebhookTimeout <= TimeSpan.Zero)
            errors.Add("Notifications:WebhookTimeout must be positive.");
        var smtp = options.Smtp;
        if (smtp.Enabled)
        {
            if (smtp.Port is < 1 or > 65535)
                errors.Add("Notifications:Smtp:Port must be between 1 and 65535.");
            if (string.IsNullOrWhiteSpace(smtp.From) || !MailAddress.TryCreate(smtp.From, out _))
                errors.Add("Notifications:Smtp:From must be an e-mail address when Notifications:Smtp:Host is set.");
            if (string.IsNullOrEmpty(smtp.User) != string.IsNullOrEmpty(smtp.Password))
                errors.Add("Notifications:Smtp:User and Notifications:Smtp:Password are set together or not at all.");
            if (smtp.Timeout <= TimeSpan.Zero)
                errors.Add("Notifications:Smtp:Timeout must be positive.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
