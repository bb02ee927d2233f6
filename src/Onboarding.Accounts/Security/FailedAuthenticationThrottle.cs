using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Onboarding.Accounts.Security;

/// <summary>
/// Counts failed API-key authentications per client address. Once an address has used up its failures
/// for the window, its requests are answered 429 without looking at the key, which makes guessing pointless.
/// </summary>
internal sealed class FailedAuthenticationThrottle : IDisposable
{
    private readonly PartitionedRateLimiter<string> _failures;

    public FailedAuthenticationThrottle(IOptions<AccountsOptions> options)
    {
        var limits = options.Value.FailedAuthentication;
        _failures = PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetFixedWindowLimiter(address,
            _ => new FixedWindowRateLimiterOptions { PermitLimit = limits.PermitLimit, Window = limits.Window, QueueLimit = 0 }));
        RetryAfter = limits.Window;
    }

    public TimeSpan RetryAfter { get; }

    public bool IsBlocked(string address) => _failures.GetStatistics(address)?.CurrentAvailablePermits == 0;

    public void RecordFailure(string address)
    {
        using var lease = _failures.AttemptAcquire(address);
    }

    public void Dispose() => _failures.Dispose();
}
