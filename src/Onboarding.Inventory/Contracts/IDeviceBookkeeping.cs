namespace Onboarding.Inventory.Contracts;

/// <summary>Bookkeeps the device records in a file a manufacturer uploaded.</summary>
public interface IDeviceBookkeeping
{
    /// <summary>
    /// Validates every record and, only if all are acceptable, upserts them in one transaction (all or nothing).
    /// Never throws for bad content: the outcome says what was wrong with which record.
    /// </summary>
    Task<BookkeepingOutcome> BookkeepAsync(Guid manufacturerId, string fileName, string source, ReadOnlyMemory<byte> content,
        CancellationToken cancellationToken);

    /// <summary>
    /// Bookkeeps several files of one manufacturer in one transaction (group commit), each file judged as
    /// <see cref="BookkeepAsync"/> would judge it on its own, in order: a rejected file adds nothing and does not affect
    /// the others; a record already bookkept by an earlier file of the group is "unchanged". Returns one outcome per
    /// file, in order. Throws when the group cannot be committed (e.g. a concurrent upload won a serial): nothing of
    /// the group was bookkept then, and the caller falls back to <see cref="BookkeepAsync"/> per file.
    /// </summary>
    Task<IReadOnlyList<BookkeepingOutcome>> BookkeepGroupAsync(Guid manufacturerId, string source, IReadOnlyList<BookkeepingFile> files,
        CancellationToken cancellationToken);
}

/// <summary>One uploaded file for <see cref="IDeviceBookkeeping.BookkeepGroupAsync"/>.</summary>
public sealed record BookkeepingFile(string FileName, ReadOnlyMemory<byte> Content);

/// <param name="Accepted">True when every record was bookkept (new or unchanged).</param>
/// <param name="Summary">One line, e.g. "3 records: 2 new, 1 unchanged", or the first reason for a rejection.</param>
/// <param name="Lines">One line per record or per problem, for the human-readable result file.</param>
public sealed record BookkeepingOutcome(bool Accepted, string Summary, IReadOnlyList<string> Lines, int NewDevices, int UnchangedDevices)
{
    /// <summary>
    /// For a rejection, why: one entry per rejected record (which record, and every reason it fails) or per document
    /// error, in file order, so the uploader can be told the first few at once. Empty when accepted.
    /// </summary>
    public IReadOnlyList<string> Reasons { get; init; } = [];
}
