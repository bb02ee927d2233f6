using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Onboarding.Accounts.Contracts;
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
/// enqueue one "bookkeep these" fact; then bookkeep the group at once (<see cref="BookkeepUploadsHandler"/>) and read
/// every outcome in one query. If the host dies in between, the outbox dispatcher finishes the group after a restart
/// (or on another host). If the group cannot be stored together, each file is stored on its own, so a file that fails
/// by itself fails alone.
/// </summary>
internal sealed class UploadGroupCommit(IServiceScopeFactory scopes, IOptions<DropOptions> options, TimeProvider clock, ILogger<UploadGroupCommit> logger)
{
    public async Task<IReadOnlyList<CloseResult>> CommitAsync(IReadOnlyList<ClosedUpload> group)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DropDbContext>();
        var outbox = scope.ServiceProvider.GetRequiredService<IOutbox>();

        var results = new CloseResult?[group.Count];
        Guid? message;
        try
        {
            message = await StoreAsync(db, outbox, group, results);
        }
        catch (Exception ex) when (group.Count > 1)
        {
            logger.LogWarning(ex, "A group of {Count} uploads could not be stored together; storing each on its own", group.Count);
            db.ChangeTracker.Clear();
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
            return [CloseResult.NotStored("the NMS could not store the upload; nothing was kept, upload it again")];
        }

        // From here on the stored uploads are safe: whatever happens to this connection or host, they will be bookkept.
        if (message is { } id)
        {
            var run = await outbox.ProcessNowAsync(id, CancellationToken.None);
            if (run.Result == OutboxRunResult.Failed)
                logger.LogError("Bookkeeping a group of {Count} uploads failed (outbox message {MessageId}): {Error}", group.Count, id, run.Error);
            await ReadOutcomesAsync(db, results, waitForDispatcher: run.Result == OutboxRunResult.NotClaimed);
        }

        return [.. results.Select(r => r!)];
    }

    /// <summary>
    /// Stores the group and enqueues its bookkeeping; fills <paramref name="results"/> with a pending marker (the upload
    /// id) or the refusal. Returns the outbox message, or null when nothing was stored.
    /// </summary>
    private async Task<Guid?> StoreAsync(DropDbContext db, IOutbox outbox, IReadOnlyList<ClosedUpload> group, CloseResult?[] results)
    {
        var quota = options.Value.Quota;
        var account = group[0].Account;
        var now = clock.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(CancellationToken.None);
        var fits = await ReserveQuotaAsync(db, account.ManufacturerId, group.Count, group.Sum(u => (long)u.Content.Length))
            ? Enumerable.Repeat(true, group.Count).ToList()
            : await ReserveEachAsync(db, account.ManufacturerId, group);

        var stored = new List<Guid>();
        for (var i = 0; i < group.Count; i++)
        {
            var upload = group[i];
            if (!fits[i])
            {
                results[i] = new CloseResult(CloseVerdict.QuotaExceeded, Guid.Empty,
                    $"quota exceeded: at most {quota.MaxFiles} files and {quota.MaxTotalBytes} bytes per manufacturer; ask the customer to raise it");
                continue;
            }

            var id = Guid.CreateVersion7();
            db.Uploads.Add(new Upload
            {
                Id = id,
                ManufacturerId = account.ManufacturerId,
                CustomerId = account.CustomerId,
                FileName = upload.FileName,
                Size = upload.Content.Length,
                Sha256 = Convert.ToHexStringLower(SHA256.HashData(upload.Content)),
                Content = upload.Content,
                ReceivedAt = now,
                Outcome = UploadOutcome.Pending,
                Summary = "received, not yet bookkept",
                Report = "",
            });
            results[i] = new CloseResult(CloseVerdict.KeptNotBookkept, id, "");
            stored.Add(id);
        }

        if (stored.Count == 0)
        {
            await transaction.RollbackAsync(CancellationToken.None);
            return null;
        }

        await db.SaveChangesAsync(CancellationToken.None);
        var message = await outbox.EnqueueAsync(db, BookkeepUploads.MessageType, new BookkeepUploads(stored, $"sftp:{account.SftpUsername}"), CancellationToken.None);
        await transaction.CommitAsync(CancellationToken.None);
        return message;
    }

    /// <summary>Near the quota the group does not fit as a whole: reserve file by file, in arrival order, so earlier files win.</summary>
    private async Task<List<bool>> ReserveEachAsync(DropDbContext db, Guid manufacturerId, IReadOnlyList<ClosedUpload> group)
    {
        var fits = new List<bool>(group.Count);
        foreach (var upload in group)
            fits.Add(await ReserveQuotaAsync(db, manufacturerId, 1, upload.Content.Length));
        return fits;
    }

    /// <summary>Adds <paramref name="files"/> files of <paramref name="bytes"/> in all to the manufacturer's usage if they stay within quota.</summary>
    private async Task<bool> ReserveQuotaAsync(DropDbContext db, Guid manufacturerId, int files, long bytes)
    {
        var quota = options.Value.Quota;
        if (bytes > quota.MaxTotalBytes || files > quota.MaxFiles)
            return false;
        var reserved = await db.Database.SqlQuery<int>($"""
            INSERT INTO drop.manufacturer_usage AS u (manufacturer_id, files, bytes) VALUES ({manufacturerId}, {files}, {bytes})
            ON CONFLICT (manufacturer_id) DO UPDATE SET files = u.files + excluded.files, bytes = u.bytes + excluded.bytes
            WHERE u.files + excluded.files <= {quota.MaxFiles} AND u.bytes + excluded.bytes <= {quota.MaxTotalBytes}
            RETURNING files AS "Value"
            """).ToListAsync(CancellationToken.None);
        return reserved.Count == 1;
    }

    /// <summary>
    /// The stored uploads' outcomes. Normally they are there at once (processed inline); if a dispatcher had claimed the
    /// message first, wait a little for it to finish, so the clients still hear the outcome.
    /// </summary>
    private static async Task ReadOutcomesAsync(DropDbContext db, CloseResult?[] results, bool waitForDispatcher)
    {
        var ids = results.Where(r => r is { UploadId: var id } && id != Guid.Empty).Select(r => r!.UploadId).ToList();
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
                    if (results[i] is not { UploadId: var id } result || id == Guid.Empty)
                        continue;
                    var row = rows[id];
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
}
