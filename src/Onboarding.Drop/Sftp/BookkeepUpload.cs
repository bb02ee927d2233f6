using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
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

    private static string Report(Upload upload, BookkeepingOutcome outcome)
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
