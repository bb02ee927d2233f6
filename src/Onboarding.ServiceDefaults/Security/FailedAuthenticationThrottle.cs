using System.Threading.RateLimiting;

namespace Onboarding.ServiceDefaults.Security;

/// <summary>
/// Counts failed API-key authentications per client address. Once an address has used up its failures
/// for the window, its requests are answered 429 without looking at the key, which makes guessing pointless.
/// Each authentication scheme keeps its own (a keyed singleton), so one scheme's failures do not lock out the other.
/// </summary>
public sealed class FailedAuthenticationThrottle : IDisposable
{
    private readonly PartitionedRateLimiter<string> _failures;

    public FailedAuthenticationThrottle(int permitLimit, TimeSpan window)
    {
        _failures = PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetFixedWindowLimiter(address,
            _ => new FixedWindowRateLimiterOptions { PermitLimit = permitLimit, Window = window, QueueLimit = 0 }));
        RetryAfter = window;
    }

    public TimeSpan RetryAfter { get; }

    public bool IsBlocked(string address) => _failures.GetStatistics(address)?.CurrentAvailablePermits == 0;

    public void RecordFailure(string address)
    {
        using var lease = _failures.AttemptAcquire(address);
    }

    public void Dispose() => _failures.Dispose();
}
