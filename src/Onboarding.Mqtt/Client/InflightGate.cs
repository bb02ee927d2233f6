namespace Onboarding.Mqtt;

/// <summary>
/// Limits outbound QoS 1/2 PUBLISH packets awaiting PUBACK/PUBCOMP to the broker's Receive Maximum
/// (MQTT 5.0 §3.2.2.3.3, §4.9). The limit can change at every CONNACK.
/// </summary>
internal sealed class InflightGate(int limit)
{
    private readonly Lock _lock = new();
    private readonly Queue<TaskCompletionSource> _waiters = new();
    private int _limit = limit;
    private int _count;

    public int Count
    {
        get
        {
            lock (_lock)
                return _count;
        }
    }

    public Task WaitAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_count < _limit && _waiters.Count == 0)
            {
                _count++;
                return Task.CompletedTask;
            }
            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Enqueue(waiter);
            if (cancellationToken.CanBeCanceled)
                cancellationToken.Register(() => waiter.TrySetCanceled(cancellationToken));
            return waiter.Task;
        }
    }

    public void Release()
    {
        lock (_lock)
        {
            _count--;
            WakeWaiters();
        }
    }

    public void SetLimit(int limit)
    {
        lock (_lock)
        {
            _limit = limit;
            WakeWaiters();
        }
    }

    private void WakeWaiters()
    {
        while (_count < _limit && _waiters.TryDequeue(out var waiter))
        {
            // A waiter cancelled meanwhile does not take the slot.
            if (waiter.TrySetResult())
                _count++;
        }
    }
}
