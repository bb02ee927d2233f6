using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Onboarding.Accounts.Contracts;
using Npgsql;
using Onboarding.Drop.Data;
using Onboarding.ServiceDefaults.Outbox;

namespace Onboarding.Drop.Sftp;

/// <summary>A completely written upload at CLOSE, waiting to be committed.</summary>
internal sealed record ClosedUpload(ManufacturerAccount Account, string FileName, byte[] Content);

internal enum CloseVerdict
{
    Accepted,
    Rejected,
    /// <summary>Not stored: over the manufacturer's quota.</summary>
    QuotaExceeded,
    /// <summary>Not stored: the NMS failed (database). Nothing was kept.</summary>
    NotStored,
    /// <summary>Stored, but bookkeeping failed for a reason of ours; the outbox retries it.</summary>
    KeptNotBookkept,
    /// <summary>Stored, and another host's dispatcher is bookkeeping it.</summary>
    KeptInProgress,
}

/// <summary>What one CLOSE is answered. <paramref name="UploadId"/> is empty when nothing was stored.</summary>
internal sealed record CloseResult(CloseVerdict Verdict, Guid UploadId, string Summary)
{
    public static CloseResult NotStored(string reason) => new(CloseVerdict.NotStored, Guid.Empty, reason);
}

/// <summary>
/// Commits one group of CLOSEs of one manufacturer: in one transaction keep every raw file, reserve their quota and
/// enqueue one "bookkeep these" fact; then bookkeep the group at once (<see cref="BookkeepUploadsHandler"/>, handed the
/// stored uploads in memory by <see cref="InlineUploadGroups"/>) and take every outcome from it. If the host dies in
/// between, the outbox dispatcher finishes the group after a restart (or on another host). If the group cannot be stored
/// together, each file is stored on its own, so a file that fails by itself fails alone.
/// The store transaction is three round trips whatever the group's size: the quota reservation and the insert of every
/// upload in one statement, the outbox message, the commit.
/// </summary>
internal sealed class UploadGroupCommit(IServiceScopeFactory scopes, IOptions<DropOptions> options, TimeProvider clock,
    InlineUploadGroups inlineGroups, ILogger<UploadGroupCommit> logger)
{
    private const string NotStoredReason = "the NMS could not store the upload; nothing was kept, upload it again";
    private const string PendingSummary = "received, not yet bookkept";

    public async Task<IReadOnlyList<CloseResult>> CommitAsync(IReadOnlyList<ClosedUpload> group)
    {
        var started = Stopwatch.GetTimestamp();
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DropDbContext>();
        var outbox = scope.ServiceProvider.GetRequiredService<IOutbox>();

        var results = new CloseResult?[group.Count];
        (Guid Message, List<Upload> Uploads)? stored;
        try
        {
            stored = await StoreAsync(db, outbox, group, results);
        }
        catch (Exception ex) when (group.Count > 1)
        {
            logger.LogWarning(ex, "A group of {Count} uploads could not be stored together; storing each on its own", group.Count);
            var each = new List<CloseResult>(group.Count);
            foreach (var upload in group)
                each.Add((await CommitAsync([upload]))[0]);
            return each;
        }
#pragma warning disable CA1031 // One file that cannot be stored fails its own CLOSE only.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            logger.LogError(ex, "Upload of {FileName} could not be stored", group[0].FileName);
            return [CloseResult.NotStored(NotStoredReason)];
        }

        // From here on the stored uploads are safe: whatever happens to this connection or host, they will be bookkept.
        if (stored is var (message, uploads))
        {
            var inline = inlineGroups.Register(message, uploads);
            OutboxRun run;
            try
            {
                run = await outbox.ProcessNowAsync(message, CancellationToken.None);
            }
            finally
            {
                inlineGroups.Remove(message);
            }

            if (run.Result == OutboxRunResult.Failed)
                logger.LogError("Bookkeeping a group of {Count} uploads failed (outbox message {MessageId}): {Error}", group.Count, message, run.Error);
            var unknown = run.Result == OutboxRunResult.NotClaimed ? results.Length : TakeInlineOutcomes(inline, results);
            if (unknown > 0)
                await ReadOutcomesAsync(db, results, waitForDispatcher: run.Result == OutboxRunResult.NotClaimed);
        }

        var answered = results.Select(r => r!).ToList();
        LogGroup(group[0].Account, answered, Stopwatch.GetElapsedTime(started));
        return answered;
    }

    /// <summary>Fills in the outcomes the inline handler wrote; returns how many stored uploads are left without one.</summary>
    private static int TakeInlineOutcomes(InlineUploadGroup inline, CloseResult?[] results)
    {
        var unknown = 0;
        for (var i = 0; i < results.Length; i++)
        {
            if (results[i] is not { UploadId: var id } result || id == Guid.Empty || result.Verdict != CloseVerdict.KeptNotBookkept)
                continue;
            if (inline.TryGetOutcome(id, out var recorded))
                results[i] = result with { Verdict = recorded.Outcome == UploadOutcome.Accepted ? CloseVerdict.Accepted : CloseVerdict.Rejected, Summary = recorded.Summary };
            else
                unknown++;
        }

        return unknown;
    }

    /// <summary>
    /// One line per group instead of one per file (a busy drop commits hundreds of files a second); a file that was not
    /// accepted also gets its own line from the session that uploaded it (<see cref="ManufacturerDrop"/>).
    /// </summary>
    private void LogGroup(ManufacturerAccount account, List<CloseResult> results, TimeSpan elapsed)
    {
        if (!logger.IsEnabled(LogLevel.Information))
            return;
        var accepted = results.Count(r => r.Verdict == CloseVerdict.Accepted);
        var rejected = results.Count(r => r.Verdict == CloseVerdict.Rejected);
        logger.LogInformation(
            "Group of {Count} uploads of manufacturer {ManufacturerId} committed in {ElapsedMs:F1} ms: {Accepted} accepted, {Rejected} rejected, {Other} not bookkept",
            results.Count, account.ManufacturerId, elapsed.TotalMilliseconds, accepted, rejected, results.Count - accepted - rejected);
    }

    /// <summary>
    /// Stores the group and enqueues its bookkeeping; fills <paramref name="results"/> with a pending marker (the upload
    /// id) or the refusal. Returns the outbox message and the stored uploads, or null when nothing was stored.
    /// </summary>
    private async Task<(Guid Message, List<Upload> Uploads)?> StoreAsync(DropDbContext db, IOutbox outbox, IReadOnlyList<ClosedUpload> group,
        CloseResult?[] results)
    {
        var quota = options.Value.Quota;
        var account = group[0].Account;
        var now = clock.GetUtcNow();
        var uploads = group.Select(u => new Upload
        {
            Id = Guid.CreateVersion7(),
            ManufacturerId = account.ManufacturerId,
            CustomerId = account.CustomerId,
            FileName = u.FileName,
            Size = u.Content.Length,
            Sha256 = Convert.ToHexStringLower(SHA256.HashData(u.Content)),
            Content = u.Content,
            ReceivedAt = now,
            Outcome = UploadOutcome.Pending,
            Summary = PendingSummary,
            Report = "",
        }).ToList();

        await using var transaction = await db.Database.BeginTransactionAsync(CancellationToken.None);
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        var npgsqlTransaction = (NpgsqlTransaction)transaction.GetDbTransaction();
        List<Upload> stored;
        if (await InsertWithinQuotaAsync(connection, npgsqlTransaction, account, uploads))
        {
            stored = uploads;
        }
        else
        {
            // Near the quota the group does not fit as a whole: file by file, in arrival order, so earlier files win.
            stored = [];
            foreach (var upload in uploads)
            {
                if (await InsertWithinQuotaAsync(connection, npgsqlTransaction, account, [upload]))
                    stored.Add(upload);
            }
        }

        var storedIds = stored.Select(u => u.Id).ToHashSet();
        for (var i = 0; i < group.Count; i++)
        {
            results[i] = storedIds.Contains(uploads[i].Id)
                ? new CloseResult(CloseVerdict.KeptNotBookkept, uploads[i].Id, "")
                : new CloseResult(CloseVerdict.QuotaExceeded, Guid.Empty,
                    $"quota exceeded: at most {quota.MaxFiles} files and {quota.MaxTotalBytes} bytes per manufacturer; ask the customer to raise it");
        }

        if (stored.Count == 0)
        {
            await transaction.RollbackAsync(CancellationToken.None);
            return null;
        }

        var message = await outbox.EnqueueAsync(connection, npgsqlTransaction, BookkeepUploads.MessageType,
            new BookkeepUploads([.. stored.Select(u => u.Id)], $"sftp:{account.SftpUsername}"), CancellationToken.None);
        await transaction.CommitAsync(CancellationToken.None);
        return (message, stored);
    }

    /// <summary>
    /// One statement: add the uploads to the manufacturer's usage if they stay within quota, and insert them only if
    /// they did. Returns false (nothing written) when they do not fit.
    /// </summary>
    private async Task<bool> InsertWithinQuotaAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, ManufacturerAccount account,
        List<Upload> uploads)
    {
        var quota = options.Value.Quota;
        var bytes = uploads.Sum(u => u.Size);
        if (bytes > quota.MaxTotalBytes || uploads.Count > quota.MaxFiles)
            return false;
        await using var command = new NpgsqlCommand("""
            WITH reserved AS (
                INSERT INTO drop.manufacturer_usage AS u (manufacturer_id, files, bytes) VALUES (@manufacturer, @files, @bytes)
                ON CONFLICT (manufacturer_id) DO UPDATE SET files = u.files + excluded.files, bytes = u.bytes + excluded.bytes
                WHERE u.files + excluded.files <= @max_files AND u.bytes + excluded.bytes <= @max_bytes
                RETURNING 1)
            INSERT INTO drop.uploads (id, manufacturer_id, customer_id, file_name, size, sha256, content, received_at, outcome, summary, report)
            SELECT v.id, @manufacturer, @customer, v.file_name, v.size, v.sha256, v.content, @received_at, 'Pending', @summary, ''
            FROM unnest(@ids, @file_names, @sizes, @sha256s, @contents) AS v(id, file_name, size, sha256, content)
            WHERE EXISTS (SELECT FROM reserved)
            """, connection, transaction);
        command.Parameters.AddWithValue("manufacturer", account.ManufacturerId);
        command.Parameters.AddWithValue("customer", account.CustomerId);
        command.Parameters.AddWithValue("files", uploads.Count);
        command.Parameters.AddWithValue("bytes", bytes);
        command.Parameters.AddWithValue("max_files", quota.MaxFiles);
        command.Parameters.AddWithValue("max_bytes", quota.MaxTotalBytes);
        command.Parameters.AddWithValue("received_at", uploads[0].ReceivedAt);
        command.Parameters.AddWithValue("summary", PendingSummary);
        command.Parameters.AddWithValue("ids", uploads.Select(u => u.Id).ToArray());
        command.Parameters.AddWithValue("file_names", uploads.Select(u => u.FileName).ToArray());
        command.Parameters.AddWithValue("sizes", uploads.Select(u => u.Size).ToArray());
        command.Parameters.AddWithValue("sha256s", uploads.Select(u => u.Sha256).ToArray());
        command.Parameters.AddWithValue("contents", uploads.Select(u => u.Content).ToArray());
        return await command.ExecuteNonQueryAsync(CancellationToken.None) == uploads.Count;
    }

    /// <summary>
    /// The stored uploads' outcomes. Normally they are there at once (processed inline); if a dispatcher had claimed the
    /// message first, wait a little for it to finish, so the clients still hear the outcome.
    /// </summary>
    private static async Task ReadOutcomesAsync(DropDbContext db, CloseResult?[] results, bool waitForDispatcher)
    {
        var ids = results.Where(IsPendingMarker).Select(r => r!.UploadId).ToList();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var rows = await db.Uploads.AsNoTracking().Where(u => ids.Contains(u.Id))
                .Select(u => new { u.Id, u.Outcome, u.Summary }).ToDictionaryAsync(u => u.Id, CancellationToken.None);
            var pending = rows.Values.Count(r => r.Outcome == UploadOutcome.Pending);
            if (pending == 0 || !waitForDispatcher || DateTime.UtcNow >= deadline)
            {
                for (var i = 0; i < results.Length; i++)
                {
                    if (!IsPendingMarker(results[i]))
                        continue;
                    var result = results[i]!;
                    var row = rows[result.UploadId];
                    results[i] = row.Outcome switch
                    {
                        UploadOutcome.Accepted => result with { Verdict = CloseVerdict.Accepted, Summary = row.Summary },
                        UploadOutcome.Rejected => result with { Verdict = CloseVerdict.Rejected, Summary = row.Summary },
                        _ => result with { Verdict = waitForDispatcher ? CloseVerdict.KeptInProgress : CloseVerdict.KeptNotBookkept },
                    };
                }

                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
    }

    /// <summary>A stored upload whose outcome is not known yet (set by <see cref="StoreAsync"/>).</summary>
    private static bool IsPendingMarker(CloseResult? result) =>
        result is { Verdict: CloseVerdict.KeptNotBookkept, UploadId: var id } && id != Guid.Empty;
}
