using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Onboarding.Redirect.Handoff;

/// <summary>
/// Sends device records to each NMS in batches: per NMS profile, records arriving within <c>Redirect:Handoff:BatchWindow</c>
/// (up to <c>MaxBatchRecords</c>) go in one file over one SFTP session that stays open until it has been idle for
/// <c>IdleTimeout</c> (a burst of devices costs a few files, not one each: the NMS drop spends milliseconds per file).
/// The drop bookkeeps a file all or nothing, so when a batch is refused its records are sent again one by one and only
/// the bad one fails. A caller's task completes when the NMS has bookkept its record (CLOSE answered OK).
/// </summary>
internal sealed class NmsHandoffBatcher(IOptions<RedirectOptions> options, TimeProvider clock, ILogger<NmsHandoffBatcher> logger) : IAsyncDisposable
{
    private readonly RedirectHandoffOptions _settings = options.Value.Handoff;
    private readonly TimeProvider _clock = clock;
    private readonly ILogger _logger = logger;
    private readonly ConcurrentDictionary<Guid, Lane> _lanes = new();
    private readonly CancellationTokenSource _stopping = new();

    private sealed record Pending(HandoffTarget Target, DeviceRecordEntry Record, TaskCompletionSource Bookkept);

    /// <summary>Completes when the NMS has bookkept the record; throws <see cref="NmsUnreachableException"/> or <see cref="NmsRejectedException"/>.</summary>
    public Task HandOffAsync(HandoffTarget target, DeviceRecordEntry record, CancellationToken cancellationToken)
    {
        var pending = new Pending(target, record, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        var lane = _lanes.GetOrAdd(target.ProfileId, _ => new Lane(this));
        ObjectDisposedException.ThrowIf(!lane.Queue.Writer.TryWrite(pending), this);
        return pending.Bookkept.Task.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        foreach (var lane in _lanes.Values)
            lane.Queue.Writer.TryComplete();
        await Task.WhenAll(_lanes.Values.Select(l => l.Running));
        _stopping.Dispose();
    }

    /// <summary>One NMS profile's queue, its batching loop and its kept-open session.</summary>
    private sealed class Lane
    {
        private readonly NmsHandoffBatcher _owner;
        private NmsSftpConnection? _connection;

        public Lane(NmsHandoffBatcher owner)
        {
            _owner = owner;
            Running = Task.Run(RunAsync);
        }

        public Channel<Pending> Queue { get; } = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });

        public Task Running { get; }

        private async Task RunAsync()
        {
            var settings = _owner._settings;
            var stopping = _owner._stopping.Token;
            try
            {
                while (!stopping.IsCancellationRequested)
                {
                    var batch = await NextBatchAsync(settings, stopping);
                    if (batch is null)
                        continue;
                    await SendAsync(batch, settings, stopping);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                // the host is stopping
            }
            catch (ChannelClosedException)
            {
                // disposed
            }
            finally
            {
                _connection?.Dispose();
                while (Queue.Reader.TryRead(out var left))
                    left.Bookkept.TrySetException(new NmsUnreachableException("the redirect server is stopping"));
            }
        }

        /// <summary>The next batch: the first record, then whatever arrives within the window. Null after an idle timeout.</summary>
        private async Task<List<Pending>?> NextBatchAsync(RedirectHandoffOptions settings, CancellationToken stopping)
        {
            Pending first;
            if (_connection is null)
            {
                first = await Queue.Reader.ReadAsync(stopping);
            }
            else
            {
                using var idle = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                idle.CancelAfter(settings.IdleTimeout);
                try
                {
                    first = await Queue.Reader.ReadAsync(idle.Token);
                }
                catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
                {
                    _owner._logger.LogInformation("Closing the idle SFTP session to {Target}", _connection.Target);
                    _connection.Dispose();
                    _connection = null;
                    return null;
                }
            }

            var batch = new List<Pending> { first };
            var deadline = _owner._clock.GetUtcNow() + settings.BatchWindow;
            while (batch.Count < settings.MaxBatchRecords)
            {
                if (Queue.Reader.TryRead(out var next))
                {
                    batch.Add(next);
                    continue;
                }

                var left = deadline - _owner._clock.GetUtcNow();
                if (left <= TimeSpan.Zero)
                    break;
                using var window = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                window.CancelAfter(left);
                try
                {
                    if (!await Queue.Reader.WaitToReadAsync(window.Token))
                        break;
                }
                catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
                {
                    break;
                }
            }

            return batch;
        }

        private async Task SendAsync(List<Pending> batch, RedirectHandoffOptions settings, CancellationToken stopping)
        {
            // The list is keyed by serial-number (YANG): a serial asked for twice goes in once and completes both callers.
            var bySerial = batch.GroupBy(p => p.Record.SerialNumber, StringComparer.Ordinal).ToList();
            var target = batch[^1].Target;
            try
            {
                var connection = await ConnectAsync(target, settings, stopping);
                try
                {
                    await UploadAsync(connection, [.. bySerial.Select(g => g.Last().Record)], stopping);
                    Complete(batch, null);
                    _owner._logger.LogInformation("Handed {Count} device records to {Target} in one file", bySerial.Count, target);
                    return;
                }
                catch (NmsRejectedException ex) when (bySerial.Count > 1)
                {
                    _owner._logger.LogWarning("The NMS at {Target} refused a batch of {Count} records ({Reason}); sending them one by one", target, bySerial.Count, ex.Message);
                }

                foreach (var group in bySerial)
                {
                    try
                    {
                        await UploadAsync(connection, [group.Last().Record], stopping);
                        Complete(group, null);
                    }
                    catch (NmsRejectedException ex)
                    {
                        _owner._logger.LogWarning("The NMS at {Target} refused the record of {Serial}: {Reason}", target, group.Key, ex.Message);
                        Complete(group, ex);
                    }
                }
            }
            catch (NmsRejectedException ex)
            {
                _owner._logger.LogWarning("The NMS at {Target} refused the record of {Serial}: {Reason}", target, bySerial[0].Key, ex.Message);
                Complete(batch, ex);
            }
            catch (NmsUnreachableException ex)
            {
                _owner._logger.LogWarning("Could not hand {Count} device records to {Target}: {Reason}", bySerial.Count, target, ex.Message);
                _connection?.Dispose();
                _connection = null;
                foreach (var pending in batch)
                    pending.Bookkept.TrySetException(ex); // those already bookkept one by one stay completed
            }
        }

        private async Task<NmsSftpConnection> ConnectAsync(HandoffTarget target, RedirectHandoffOptions settings, CancellationToken stopping)
        {
            if (_connection is { IsConnected: true } open && open.Target.SameLogin(target))
                return open;
            _connection?.Dispose();
            _connection = null;
            _connection = await NmsSftpConnection.OpenAsync(target, settings.ConnectTimeout, settings.OperationTimeout, _owner._logger, stopping);
            _owner._logger.LogInformation("SFTP session to {Target} open", target);
            return _connection;
        }

        private async Task UploadAsync(NmsSftpConnection connection, IReadOnlyCollection<DeviceRecordEntry> records, CancellationToken stopping)
        {
            var name = $"redirect-{_owner._clock.GetUtcNow():yyyyMMdd'T'HHmmssfff}-{Guid.NewGuid().ToString("N")[..8]}.xml";
            await connection.UploadAsync(name, DeviceRecordDocument.Write(records), stopping);
        }

        private static void Complete(IEnumerable<Pending> pendings, Exception? error)
        {
            foreach (var pending in pendings)
            {
                if (error is null)
                    pending.Bookkept.TrySetResult();
                else
                    pending.Bookkept.TrySetException(error);
            }
        }
    }
}
