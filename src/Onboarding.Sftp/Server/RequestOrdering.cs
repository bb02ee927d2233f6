namespace Onboarding.Sftp.Server;

/// <summary>
/// draft-ietf-secsh-filexfer-02 §6.1: requests on the same file must give the results they would
/// give one at a time, but "the server may process non-overlapping read/write requests to the
/// same file in parallel". Given requests in arrival order, this returns for each the task it must
/// wait for. Called only from the session's read loop, so it needs no locking.
/// </summary>
internal sealed class RequestOrdering
{
    private readonly List<Admitted> _pending = [];
    private Task _barrier = Task.CompletedTask;

    internal enum Scope
    {
        /// <summary>A READ or WRITE of [offset, offset+length) on one handle.</summary>
        Range,
        /// <summary>Any other request naming a handle (CLOSE, FSTAT, FSETSTAT, READDIR, fsync).</summary>
        Handle,
        /// <summary>Requests naming paths: ordered after everything before them.</summary>
        Everything,
    }

    /// <summary>The number of admitted requests that may still be running (for tests).</summary>
    public int PendingCount => _pending.Count;

    public Task Admit(Task done, Scope scope, uint handle = 0, ulong offset = 0, ulong length = 0, bool writes = false)
    {
        _pending.RemoveAll(p => p.Done.IsCompleted);
        var waitFor = new List<Task>();
        if (!_barrier.IsCompleted)
        {
            waitFor.Add(_barrier);
        }

        if (scope == Scope.Everything)
        {
            waitFor.AddRange(_pending.Select(p => p.Done));
            _pending.Clear();
            _barrier = done;
        }
        else
        {
            var end = offset + length < offset ? ulong.MaxValue : offset + length;
            foreach (var p in _pending)
            {
                if (p.Handle != handle)
                {
                    continue;
                }

                var conflicts = scope == Scope.Handle
                    || p.Scope == Scope.Handle
                    || ((writes || p.Writes) && offset < p.End && p.Offset < end);
                if (conflicts)
                {
                    waitFor.Add(p.Done);
                }
            }

            _pending.Add(new Admitted(done, scope, handle, offset, end, writes));
        }

        return waitFor.Count switch
        {
            0 => Task.CompletedTask,
            1 => waitFor[0],
            _ => Task.WhenAll(waitFor),
        };
    }

    private sealed record Admitted(Task Done, Scope Scope, uint Handle, ulong Offset, ulong End, bool Writes);
}
