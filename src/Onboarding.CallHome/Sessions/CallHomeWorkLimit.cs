namespace Onboarding.CallHome.Sessions;

/// <summary>
/// The host-wide bound on concurrent onboarding work over call-home sessions
/// (<see cref="CallHomeListenerOptions.MaxConcurrentPreconfigurations"/>): a burst of call homes queues here, on live
/// sessions kept alive by their keepalives, instead of exhausting the database pool.
/// </summary>
internal sealed class CallHomeWorkLimit(Microsoft.Extensions.Options.IOptions<CallHomeOptions> options) : IDisposable
{
    private readonly SemaphoreSlim _slots = new(options.Value.CallHome.MaxConcurrentPreconfigurations);

    public async Task<IDisposable> EnterAsync(CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        return new Slot(_slots);
    }

    public void Dispose() => _slots.Dispose();

    private sealed class Slot(SemaphoreSlim slots) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
                slots.Release();
        }
    }
}
