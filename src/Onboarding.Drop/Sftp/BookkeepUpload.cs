using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Onboarding.Drop.Data;
using Onboarding.Inventory.Contracts;
using Onboarding.ServiceDefaults.Outbox;

namespace Onboarding.Drop.Sftp;

/// <summary>The outbox fact "bookkeep this stored upload", written in the transaction that stores it and reserves its quota.</summary>
internal sealed record BookkeepUpload(Guid UploadId, string Source)
{
    public const string MessageType = "drop.bookkeep-upload";
}

/// <summary>
/// Bookkeeps a stored upload's records and records the outcome on the upload. Idempotent: an upload that already has
/// an outcome is done, and bookkeeping the same records again changes no device (it reports them as unchanged).
/// </summary>
internal sealed class BookkeepUploadHandler(DropDbContext db, IDeviceBookkeeping bookkeeping, ILogger<BookkeepUploadHandler> logger)
    : IOutboxHandler
{
    public async Task HandleAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        var fact = message.Read<BookkeepUpload>();
        var upload = await db.Uploads.AsNoTracking().SingleOrDefaultAsync(u => u.Id == fact.UploadId, cancellationToken)
            ?? throw new InvalidOperationException($"upload {fact.UploadId} does not exist");
        if (upload.Outcome != UploadOutcome.Pending)
            return;

        var outcome = await bookkeeping.BookkeepAsync(upload.ManufacturerId, upload.FileName, fact.Source, upload.Content, cancellationToken);
        var report = Report(upload, outcome);
        var result = outcome.Accepted ? UploadOutcome.Accepted : UploadOutcome.Rejected;
        var summary = outcome.Accepted ? outcome.Summary : RejectionMessage.Summary(outcome);
        // Only a Pending upload takes an outcome: a second delivery racing this one cannot overwrite the first's.
        await db.Uploads.Where(u => u.Id == upload.Id && u.Outcome == UploadOutcome.Pending).ExecuteUpdateAsync(u => u
            .SetProperty(x => x.Outcome, result).SetProperty(x => x.Summary, summary).SetProperty(x => x.Report, report), CancellationToken.None);
        if (message.Attempt > 1)
            logger.LogInformation("Upload {UploadId} of {FileName} {Outcome} on attempt {Attempt}: {Summary}", upload.Id, upload.FileName, result, message.Attempt, summary);
    }

    internal static string Report(Upload upload, BookkeepingOutcome outcome)
    {
        var report = new StringBuilder()
            .Append("file: ").Append(upload.FileName).Append('\n')
            .Append("received: ").Append(upload.ReceivedAt.ToString("u", CultureInfo.InvariantCulture)).Append('\n')
            .Append("size: ").Append(upload.Size).Append(" bytes, sha256 ").Append(upload.Sha256).Append('\n')
            .Append("outcome: ").Append(outcome.Accepted ? "ACCEPTED" : "REJECTED").Append(" - ").Append(outcome.Summary).Append('\n');
        foreach (var line in outcome.Lines)
            report.Append(line).Append('\n');
        return report.ToString();
    }
}

/// <summary>
/// The outbox fact "bookkeep these stored uploads", written in the transaction that stores a group of CLOSEs
/// (see <see cref="UploadCommitter"/>). The ids are in arrival order, which is the order the files are judged in.
/// </summary>
internal sealed record BookkeepUploads(IReadOnlyList<Guid> UploadIds, string Source)
{
    public const string MessageType = "drop.bookkeep-uploads";
}

/// <summary>
/// Bookkeeps a group of stored uploads in one inventory transaction and records every outcome in one statement. If the
/// group cannot be committed together, each upload is bookkept on its own, so only an upload that fails by itself is
/// left Pending (and this message fails, to be retried for those alone). Idempotent like <see cref="BookkeepUploadHandler"/>.
/// </summary>
internal sealed class BookkeepUploadsHandler(DropDbContext db, IDeviceBookkeeping bookkeeping, IServiceScopeFactory scopes,
    InlineUploadGroups inlineGroups, ILogger<BookkeepUploadsHandler> logger) : IOutboxHandler
{
    public async Task HandleAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        var fact = message.Read<BookkeepUploads>();
        // The first attempt, run inline by the committer that stored the group a moment ago, gets the uploads in memory:
        // all still Pending, because only this claimed message bookkeeps them. Any later attempt reads what is left.
        var inline = message.Attempt == 1 && inlineGroups.TryGet(message.Id, out var group) ? group : null;
        List<Upload> uploads;
        if (inline is not null)
        {
            uploads = [.. inline.Uploads];
        }
        else
        {
            var ids = fact.UploadIds.ToList();
            var stored = await db.Uploads.AsNoTracking().Where(u => ids.Contains(u.Id) && u.Outcome == UploadOutcome.Pending).ToListAsync(cancellationToken);
            uploads = [.. stored.OrderBy(u => ids.IndexOf(u.Id))];
        }

        if (uploads.Count == 0)
            return;

        BookkeepingOutcome?[] outcomes;
        try
        {
            outcomes = [.. await bookkeeping.BookkeepGroupAsync(uploads[0].ManufacturerId, fact.Source,
                [.. uploads.Select(u => new BookkeepingFile(u.FileName, u.Content))], cancellationToken)];
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(ex, "A group of {Count} uploads could not be bookkept together; bookkeeping each on its own", uploads.Count);
            outcomes = await BookkeepEachAsync(uploads, fact.Source, cancellationToken);
        }

        await RecordOutcomesAsync(uploads, outcomes, inline);
        var failed = outcomes.Count(o => o is null);
        if (failed > 0)
            throw new InvalidOperationException($"{failed} of {uploads.Count} uploads could not be bookkept; they stay pending and are retried");
    }

    /// <summary>The fallback: each upload in its own scope and transaction, so one that fails cannot fail the others.</summary>
    private async Task<BookkeepingOutcome?[]> BookkeepEachAsync(List<Upload> uploads, string source, CancellationToken cancellationToken)
    {
        var outcomes = new BookkeepingOutcome?[uploads.Count];
        for (var i = 0; i < uploads.Count; i++)
        {
            var upload = uploads[i];
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                outcomes[i] = await scope.ServiceProvider.GetRequiredService<IDeviceBookkeeping>()
                    .BookkeepAsync(upload.ManufacturerId, upload.FileName, source, upload.Content, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                logger.LogError(ex, "Upload {UploadId} of {FileName} could not be bookkept; it stays pending and is retried", upload.Id, upload.FileName);
            }
        }

        return outcomes;
    }

    /// <summary>
    /// One UPDATE for the whole group; only a Pending upload takes an outcome, so a racing delivery cannot overwrite one.
    /// The outcomes it wrote go to the inline committer, which answers the CLOSEs from them.
    /// </summary>
    private async Task RecordOutcomesAsync(List<Upload> uploads, BookkeepingOutcome?[] outcomes, InlineUploadGroup? inline)
    {
        var done = uploads.Zip(outcomes).Where(x => x.Second is not null).Select(x => (Upload: x.First, Outcome: x.Second!)).ToList();
        if (done.Count == 0)
            return;
        var ids = done.Select(d => d.Upload.Id).ToArray();
        var results = done.Select(d => d.Outcome.Accepted ? UploadOutcome.Accepted : UploadOutcome.Rejected).ToArray();
        var names = results.Select(r => r.ToString()).ToArray();
        var summaries = done.Select(d => d.Outcome.Accepted ? d.Outcome.Summary : RejectionMessage.Summary(d.Outcome)).ToArray();
        var reports = done.Select(d => BookkeepUploadHandler.Report(d.Upload, d.Outcome)).ToArray();
        var written = await db.Database.SqlQuery<Guid>($"""
            UPDATE drop.uploads AS u SET outcome = v.outcome, summary = v.summary, report = v.report
            FROM unnest({ids}, {names}, {summaries}, {reports}) AS v(id, outcome, summary, report)
            WHERE u.id = v.id AND u.outcome = 'Pending'
            RETURNING u.id AS "Value"
            """).ToListAsync(CancellationToken.None);
        if (inline is null)
            return;
        var writtenIds = written.ToHashSet();
        for (var i = 0; i < ids.Length; i++)
        {
            if (writtenIds.Contains(ids[i]))
                inline.Recorded(ids[i], results[i], summaries[i]);
        }
    }
}
