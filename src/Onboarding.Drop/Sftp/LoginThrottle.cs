using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Onboarding.Drop.Sftp;

/// <summary>
/// Counts failed SFTP logins per client address and per username. After <see cref="DropOptions.MaxFailedLogins"/>
/// failures within the window, that address or username is locked out for <see cref="DropOptions.LockoutDuration"/>:
/// even the right passphrase is refused until then. Counters live in this host's memory; behind a load balancer
/// each host locks out independently, which still bounds guessing to hosts × limit per window.
/// </summary>
internal sealed class LoginThrottle(IOptions<DropOptions> options, TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, Counter> _counters = new(StringComparer.Ordinal);

    public bool IsLockedOut(string address, string userName) => IsLocked("addr:" + address) || IsLocked("user:" + userName);

    public void RecordFailure(string address, string userName)
    {
        Fail("addr:" + address);
        Fail("user:" + userName);
        if (_counters.Count > 100_000)
            Sweep();
    }

    public void RecordSuccess(string address, string userName)
    {
        _counters.TryRemove("addr:" + address, out _);
        _counters.TryRemove("user:" + userName, out _);
    }

    private bool IsLocked(string key) => _counters.TryGetValue(key, out var counter) && counter.LockedUntil > clock.GetUtcNow();

    private void Fail(string key)
    {
        var now = clock.GetUtcNow();
        var settings = options.Value;
        _counters.AddOrUpdate(key,
            _ => new Counter(now, 1, DateTimeOffset.MinValue),
            (_, c) =>
            {
                var fresh = now - c.WindowStart > settings.FailureWindow;
                var failures = fresh ? 1 : c.Failures + 1;
                var lockedUntil = failures >= settings.MaxFailedLogins ? now + settings.LockoutDuration : c.LockedUntil;
                return new Counter(fresh ? now : c.WindowStart, failures, lockedUntil);
            });
    }

    private void Sweep()
    {
        var now = clock.GetUtcNow();
        foreach (var (key, counter) in _counters)
        {
            if (counter.LockedUntil < now && now - counter.WindowStart > options.Value.FailureWindow)
                _counters.TryRemove(key, out _);
        }
    }

    private sealed record Counter(DateTimeOffset WindowStart, int Failures, DateTimeOffset LockedUntil);
}
