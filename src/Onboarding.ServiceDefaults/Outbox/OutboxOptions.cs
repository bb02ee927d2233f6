using Microsoft.Extensions.Options;

namespace Onboarding.ServiceDefaults.Outbox;

/// <summary>The <c>Outbox</c> configuration section: how the dispatcher claims, retries and gives up.</summary>
public sealed class OutboxOptions
{
    /// <summary>Set false to run no dispatcher on this host (messages are still written and may be processed inline).</summary>
    public bool DispatcherEnabled { get; set; } = true;

    /// <summary>How often an idle dispatcher looks for due messages.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Messages one dispatcher claims at a time.</summary>
    public int BatchSize { get; set; } = 20;

    /// <summary>How long a claim lasts: a host that dies holding messages gives them back after this.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>The delay before the second attempt; it doubles after every failure up to <see cref="MaxDelay"/>.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(2);

    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Attempts before a message is dead-lettered with its last error.</summary>
    public int MaxAttempts { get; set; } = 10;

    /// <summary>The health check turns Degraded when the oldest due message has waited longer than this.</summary>
    public TimeSpan StaleAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long processed messages are kept (for inspection) before they are deleted.</summary>
    public TimeSpan RetainDone { get; set; } = TimeSpan.FromDays(7);
}

/// <summary>Refuses settings that would make the dispatcher spin, never retry or never give up, naming the key.</summary>
internal sealed class OutboxOptionsValidator : IValidateOptions<OutboxOptions>
{
    public ValidateOptionsResult Validate(string? name, OutboxOptions options)
    {
        var errors = new List<string>();
        if (options.PollInterval <= TimeSpan.Zero)
            errors.Add("Outbox:PollInterval must be positive.");
        if (options.BatchSize is < 1 or > 1000)
            errors.Add("Outbox:BatchSize must be between 1 and 1000.");
        if (options.LeaseDuration < TimeSpan.FromSeconds(1))
            errors.Add("Outbox:LeaseDuration must be at least one second.");
        if (options.BaseDelay <= TimeSpan.Zero)
            errors.Add("Outbox:BaseDelay must be positive.");
        if (options.MaxDelay < options.BaseDelay)
            errors.Add("Outbox:MaxDelay must be at least Outbox:BaseDelay.");
        if (options.MaxAttempts is < 1 or > 1000)
            errors.Add("Outbox:MaxAttempts must be between 1 and 1000.");
        if (options.StaleAfter <= TimeSpan.Zero)
            errors.Add("Outbox:StaleAfter must be positive.");
        if (options.RetainDone < TimeSpan.Zero)
            errors.Add("Outbox:RetainDone must not be negative.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
