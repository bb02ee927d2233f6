namespace Onboarding.ServiceDefaults.Outbox;

/// <summary>
/// Exponential back-off with jitter: after failed attempt n the next waits between half and all of
/// BaseDelay·2^(n−1), capped at MaxDelay. The jitter spreads hosts that failed together (a database restart) so
/// they do not retry in lock-step; the ranges of consecutive attempts do not overlap, so the wait always grows
/// until the cap.
/// </summary>
internal static class OutboxBackoff
{
    public static TimeSpan Delay(int failedAttempt, OutboxOptions options, double random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failedAttempt, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(random, 0.0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(random, 1.0);
        // 2^30 already exceeds any sensible MaxDelay; the cap keeps the arithmetic finite.
        var exponential = options.BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(failedAttempt - 1, 30));
        var capped = Math.Min(exponential, options.MaxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.5 + (0.5 * random)));
    }
}
