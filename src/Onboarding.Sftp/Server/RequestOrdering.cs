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
        /// <summary>
        /// OPEN of a file: ordered after earlier requests that touch the same file (an earlier OPEN of it, or a request
        /// on a handle opened on it, such as the CLOSE that commits an earlier upload of the same name), not after
        /// unrelated ones. A pipelining client's next OPEN must not wait for an unrelated file's slow CLOSE.
        /// </summary>
        File,
        /// <summary>Other requests naming paths (RENAME, REMOVE, SETSTAT, …): ordered after everything before them.</summary>
        Everything,
    }

    /// <summary>The number of admitted requests that may still be running (for tests).</summary>
    public int PendingCount => _pending.Count;

    /// <param name="path">
    /// For <see cref="Scope.File"/> the path opened; for <see cref="Scope.Range"/> and <see cref="Scope.Handle"/> the
    /// path the handle was opened on, when known.
    /// </param>
    public Task Admit(Task done, Scope scope, uint handle = 0, ulong offset = 0, ulong length = 0, bool writes = false, string? path = null)
    {
        _pending.RemoveAll(p => p.Done.IsCompleted);
        var waitFor = new List<Task>();
        if (!_barrier.IsCompleted)
        {
            waitFor.Add(_barrier);
        }

        var file = path is null ? null : FileKey(path);
        if (scope == Scope.Everything)
        {
            waitFor.AddRange(_pending.Select(p => p.Done));
            _pending.Clear();
            _barrier = done;
        }
        else if (scope == Scope.File)
        {
            foreach (var p in _pending)
            {
                // The same name counts as the same file: conservative for aliases like "a/./x" and "x".
                if (file is null || p.File is null || string.Equals(p.File, file, StringComparison.Ordinal))
                {
                    waitFor.Add(p.Done);
                }
            }

            _pending.Add(new Admitted(done, scope, 0, 0, 0, false, file));
        }
        else
        {
            var end = offset + length < offset ? ulong.MaxValue : offset + length;
            foreach (var p in _pending)
            {
                if (p.Scope == Scope.File || p.Handle != handle)
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

            _pending.Add(new Admitted(done, scope, handle, offset, end, writes, file));
        }

        return waitFor.Count switch
        {
            0 => Task.CompletedTask,
            1 => waitFor[0],
            _ => Task.WhenAll(waitFor),
        };
    }

    /// <summary>The last path segment, which every spelling of one file's path (absolute, relative, with "./") shares.</summary>
    internal static string FileKey(string path)
    {
        var trimmed = path.TrimEnd('/');
        var slash = trimmed.LastIndexOf('/');
        return slash < 0 ? trimmed : trimmed[(slash + 1)..];
    }

    private sealed record Admitted(Task Done, Scope Scope, uint Handle, ulong Offset, ulong End, bool Writes, string? File);
}
