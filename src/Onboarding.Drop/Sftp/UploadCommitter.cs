using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Onboarding.Accounts.Contracts;

namespace Onboarding.Drop.Sftp;

/// <summary>
/// Group commit of upload CLOSEs, per manufacturer (issue 14). A CLOSE that finds no group of its manufacturer
/// committing starts one at once; otherwise it waits in the manufacturer's queue, and the next group to start takes every
/// waiting CLOSE (up to <see cref="DropOptions.MaxGroupFiles"/>) into one transaction. Another group starts beside the
/// committing ones (up to <see cref="DropOptions.MaxConcurrentGroups"/>) once <see cref="DropOptions.MinFilesForConcurrentGroup"/>
/// CLOSEs wait, or once a waiting CLOSE has waited <see cref="DropOptions.GroupWaitLimit"/>. So an idle drop adds no latency, and a busy one pays the fixed cost of a commit once per group instead
/// of once per file (measured in bench/README.md: starting a group for every CLOSE that found a free slot made 40 % of
/// the groups single files). Each CLOSE still gets its own answer, after its
/// group is committed (<see cref="UploadGroupCommit"/>).
/// Backpressure: at most <see cref="DropOptions.MaxQueuedCloses"/> CLOSEs per manufacturer wait or commit at once; more
/// wait for room before they are queued. A CLOSE whose session ends while it waits is dropped unstored (its client
/// heard nothing, like a connection lost before CLOSE); once its group has started it is committed regardless.
/// </summary>
internal sealed class UploadCommitter(UploadGroupCommit commit, IOptions<DropOptions> options, ILogger<UploadCommitter> logger)
{
    private readonly ConcurrentDictionary<Guid, Lane> _lanes = new();

    public async Task<CloseResult> CommitAsync(ManufacturerAccount account, string fileName, byte[] content, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var lane = _lanes.GetOrAdd(account.ManufacturerId, _ => new Lane(settings.MaxQueuedCloses));
        await lane.Room.WaitAsync(cancellationToken);
        var close = new QueuedClose(account, fileName, content);
        bool startGroup;
        lock (lane.Gate)
        {
            lane.Queue.Enqueue(close);
            // Idle: commit at once. Busy: a further group only for a backlog worth a group; otherwise the CLOSE waits for
            // the next group, which takes the whole queue. A group per lone CLOSE would pay a group's fixed cost per file.
            startGroup = lane.Committing == 0
                || (lane.Committing < settings.MaxConcurrentGroups && lane.Queue.Count >= settings.MinFilesForConcurrentGroup);
            if (startGroup)
                lane.Committing++;
        }

        if (startGroup)
            _ = Task.Run(() => DrainAsync(lane), CancellationToken.None);

        await using var registration = cancellationToken.Register(() =>
        {
            if (close.TryCancel())
                lane.Room.Release();
        });
        if (!startGroup)
        {
            // Not the session's token: once taken into a group, a CLOSE is committed and answered whatever happens to it.
            try
            {
                return await close.Result.WaitAsync(settings.GroupWaitLimit, CancellationToken.None);
            }
            catch (TimeoutException)
            {
                StartGroupIfStillQueued(lane, close, settings);
            }
        }

        return await close.Result;
    }

    /// <summary>
    /// A committing group that takes long (a lock, a slow disk) must not hold the CLOSEs queued behind it: one that waited
    /// <see cref="DropOptions.GroupWaitLimit"/> starts a group beside it (up to the limit), which takes the whole queue.
    /// </summary>
    private void StartGroupIfStillQueued(Lane lane, QueuedClose close, DropOptions settings)
    {
        lock (lane.Gate)
        {
            if (!close.IsQueued || lane.Committing >= settings.MaxConcurrentGroups)
                return;
            lane.Committing++;
        }

        _ = Task.Run(() => DrainAsync(lane), CancellationToken.None);
    }

    /// <summary>Commits groups from the lane's queue until it is empty.</summary>
    private async Task DrainAsync(Lane lane)
    {
        var maxGroup = options.Value.MaxGroupFiles;
        while (true)
        {
            var group = new List<QueuedClose>();
            lock (lane.Gate)
            {
                while (group.Count < maxGroup && lane.Queue.TryDequeue(out var close))
                {
                    if (close.TryTake())
                        group.Add(close);
                }

                if (group.Count == 0)
                {
                    lane.Committing--;
                    return;
                }
            }

            IReadOnlyList<CloseResult> results;
            try
            {
                results = await commit.CommitAsync([.. group.Select(c => new ClosedUpload(c.Account, c.FileName, c.Content))]);
            }
#pragma warning disable CA1031 // A bug in one group must answer its CLOSEs, not stop the lane.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                logger.LogError(ex, "A group of {Count} uploads could not be committed", group.Count);
                results = [.. group.Select(_ => CloseResult.NotStored("the NMS could not store the upload; nothing was kept, upload it again"))];
            }

            for (var i = 0; i < group.Count; i++)
            {
                group[i].Answer(results[i]);
                lane.Room.Release();
            }
        }
    }

    private sealed class Lane(int maxQueued)
    {
        public Lock Gate { get; } = new();

        public Queue<QueuedClose> Queue { get; } = new();

        /// <summary>Groups of this manufacturer being committed now (guarded by <see cref="Gate"/>).</summary>
        public int Committing { get; set; }

        public SemaphoreSlim Room { get; } = new(maxQueued, maxQueued);
    }

    private sealed class QueuedClose(ManufacturerAccount account, string fileName, byte[] content)
    {
        private const int Queued = 0, Taken = 1, Cancelled = 2;
        private readonly TaskCompletionSource<CloseResult> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _state;

        public ManufacturerAccount Account { get; } = account;

        public string FileName { get; } = fileName;

        public byte[] Content { get; } = content;

        public Task<CloseResult> Result => _result.Task;

        /// <summary>Still waiting in the queue: neither taken into a group nor cancelled.</summary>
        public bool IsQueued => Volatile.Read(ref _state) == Queued;

        /// <summary>True if this CLOSE goes into a group: from then on it is committed whatever happens to its session.</summary>
        public bool TryTake() => Interlocked.CompareExchange(ref _state, Taken, Queued) == Queued;

        public bool TryCancel()
        {
            if (Interlocked.CompareExchange(ref _state, Cancelled, Queued) != Queued)
                return false;
            _result.TrySetCanceled();
            return true;
        }

        public void Answer(CloseResult result) => _result.TrySetResult(result);
    }
}
