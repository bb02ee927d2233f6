using System.Net;
using System.Threading.RateLimiting;

namespace Onboarding.ServiceDefaults.Connections;

/// <param name="MaxUnauthenticated">Connections not yet authenticated, in total (like OpenSSH's MaxStartups).</param>
/// <param name="MaxUnauthenticatedPerAddress">The same per client address.</param>
/// <param name="ConnectionsPerAddressPerSecond">Token-bucket refill per client address; 0 disables the rate limit.</param>
/// <param name="ConnectionBurstPerAddress">Token-bucket size per client address.</param>
public sealed record ConnectionAdmissionLimits(int MaxUnauthenticated, int MaxUnauthenticatedPerAddress, int ConnectionsPerAddressPerSecond = 0,
    int ConnectionBurstPerAddress = 0);

/// <summary>Why a connection was refused at accept.</summary>
public enum ConnectionRefusal
{
    None,

    /// <summary>The address opened connections faster than its token bucket allows.</summary>
    RateLimited,

    /// <summary>Too many connections (in total, or from this address) have not authenticated yet.</summary>
    TooManyUnauthenticated,
}

/// <summary>
/// The decision on one accepted connection. Admitted: <see cref="Slot"/> is held until the peer has authenticated or
/// the connection ends (dispose it; disposing twice is harmless). Refused: close the socket before any protocol work.
/// <see cref="LogNow"/> says whether this refusal is the one to log (at most one line per <see cref="ConnectionAdmission.LogInterval"/>),
/// with <see cref="RefusedSinceLastLog"/> refusals folded into it.
/// </summary>
public readonly record struct ConnectionAdmissionDecision(IDisposable? Slot, ConnectionRefusal Refusal, int Unauthenticated, int FromAddress,
    bool LogNow, long RefusedSinceLastLog)
{
    public bool Admitted => Slot is not null;
}

/// <summary>
/// Admission at accept for a listener whose peers are unauthenticated until a handshake completes (the SFTP drop, call
/// home): a per-address token bucket (<see cref="System.Threading.RateLimiting"/>) and counts of connections not yet
/// authenticated, in total and per address. Each such connection costs a key exchange and holds a slot until its
/// timeout, so a flood (a mass reboot after a power cut, or an attack) is refused at accept instead of starving the
/// peers that authenticate; authenticated sessions never count. Counters live in this host's memory: each host behind
/// a load balancer limits its own. One instance per listener.
/// </summary>
public sealed class ConnectionAdmission : IDisposable
{
    /// <summary>At most one refusal log line per interval per listener; the line carries how many it stands for.</summary>
    public static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(10);

    private readonly Func<ConnectionAdmissionLimits> _limits;
    private readonly TimeProvider _clock;
    private readonly Lock _gate = new();
    private readonly Dictionary<IPAddress, int> _byAddress = [];
    private readonly PartitionedRateLimiter<IPAddress>? _rate;
    private int _total;
    private long _refused;
    private long _refusedRateLimited;
    private long _refusedSinceLog;
    private long _lastLogTimestamp = long.MinValue;

    /// <param name="limits">Read on every connection (so options reloads apply); the rate settings are read once.</param>
    public ConnectionAdmission(Func<ConnectionAdmissionLimits> limits, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(limits);
        _limits = limits;
        _clock = clock;
        var initial = limits();
        if (initial.ConnectionsPerAddressPerSecond > 0)
        {
            _rate = PartitionedRateLimiter.Create<IPAddress, IPAddress>(address => RateLimitPartition.GetTokenBucketLimiter(address, _ =>
                new TokenBucketRateLimiterOptions
                {
                    TokenLimit = Math.Max(initial.ConnectionBurstPerAddress, initial.ConnectionsPerAddressPerSecond),
                    TokensPerPeriod = initial.ConnectionsPerAddressPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                }));
        }
    }

    /// <summary>Connections refused since start (for operators and tests).</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Of <see cref="Refused"/>, those refused by the per-address rate limit.</summary>
    public long RefusedRateLimited => Interlocked.Read(ref _refusedRateLimited);

    /// <summary>Connections holding an unauthenticated slot now.</summary>
    public int Unauthenticated
    {
        get
        {
            lock (_gate)
                return _total;
        }
    }

    /// <summary>Decides on a connection from <paramref name="address"/>; call it before any await after accept, so counts are exact.</summary>
    public ConnectionAdmissionDecision TryAdmit(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        var limits = _limits();
        int total, fromAddress;
        var refusal = ConnectionRefusal.None;
        lock (_gate)
        {
            total = _total;
            fromAddress = _byAddress.GetValueOrDefault(address);
        }

        if (_rate is not null)
        {
            using var lease = _rate.AttemptAcquire(address);
            if (!lease.IsAcquired)
                refusal = ConnectionRefusal.RateLimited;
        }

        if (refusal == ConnectionRefusal.None)
        {
            lock (_gate)
            {
                total = _total;
                fromAddress = _byAddress.GetValueOrDefault(address);
                if (total >= limits.MaxUnauthenticated || fromAddress >= limits.MaxUnauthenticatedPerAddress)
                {
                    refusal = ConnectionRefusal.TooManyUnauthenticated;
                }
                else
                {
                    _total++;
                    _byAddress[address] = fromAddress + 1;
                    return new ConnectionAdmissionDecision(new Slot(this, address), ConnectionRefusal.None, total + 1, fromAddress + 1, false, 0);
                }
            }
        }

        Interlocked.Increment(ref _refused);
        if (refusal == ConnectionRefusal.RateLimited)
            Interlocked.Increment(ref _refusedRateLimited);
        var folded = Interlocked.Increment(ref _refusedSinceLog);
        var now = _clock.GetTimestamp();
        var last = Interlocked.Read(ref _lastLogTimestamp);
        var due = last == long.MinValue || _clock.GetElapsedTime(last, now) >= LogInterval;
        // One caller wins the line for this interval; the others only count.
        if (due && Interlocked.CompareExchange(ref _lastLogTimestamp, now, last) == last)
        {
            folded = Interlocked.Exchange(ref _refusedSinceLog, 0);
            return new ConnectionAdmissionDecision(null, refusal, total, fromAddress, true, folded);
        }

        return new ConnectionAdmissionDecision(null, refusal, total, fromAddress, false, folded);
    }

    public void Dispose() => _rate?.Dispose();

    private void Leave(IPAddress address)
    {
        lock (_gate)
        {
            _total--;
            var left = _byAddress[address] - 1;
            if (left == 0)
                _byAddress.Remove(address);
            else
                _byAddress[address] = left;
        }
    }

    private sealed class Slot(ConnectionAdmission owner, IPAddress address) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
                owner.Leave(address);
        }
    }
}
