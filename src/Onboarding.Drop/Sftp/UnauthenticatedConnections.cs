using Microsoft.Extensions.Options;

namespace Onboarding.Drop.Sftp;

/// <summary>
/// Counts the drop's connections that have not logged in yet, in total and per client address, like OpenSSH's
/// MaxStartups: each costs a key exchange and up to the authentication timeout of a slot, so a flood of idle or
/// guessing connections is refused at accept instead of starving the manufacturers that log in. A logged-in
/// connection no longer counts. Counters live in this host's memory; each host behind a load balancer limits its own.
/// </summary>
internal sealed class UnauthenticatedConnections(IOptions<DropOptions> options)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _byAddress = new(StringComparer.Ordinal);
    private int _total;

    /// <summary>
    /// Takes a slot for a new connection from <paramref name="address"/>, or returns null when either limit is reached;
    /// the counts are the ones that decided (for the log line).
    /// </summary>
    public Slot? TryEnter(string address, out int total, out int fromAddress)
    {
        var settings = options.Value;
        lock (_gate)
        {
            total = _total;
            fromAddress = _byAddress.GetValueOrDefault(address);
            if (total >= settings.MaxUnauthenticated || fromAddress >= settings.MaxUnauthenticatedPerAddress)
                return null;
            _total++;
            _byAddress[address] = fromAddress + 1;
            return new Slot(this, address);
        }
    }

    private void Leave(string address)
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

    /// <summary>Held from accept until the user is authenticated or the connection ends; releasing twice is harmless.</summary>
    internal sealed class Slot(UnauthenticatedConnections owner, string address) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
                owner.Leave(address);
        }
    }
}
