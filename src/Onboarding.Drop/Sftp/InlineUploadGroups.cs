using System.Collections.Concurrent;
using Onboarding.Drop.Data;

namespace Onboarding.Drop.Sftp;

/// <summary>
/// Hands a just-stored group from <see cref="UploadGroupCommit"/> to <see cref="BookkeepUploadsHandler"/> in memory while
/// the committer processes the group's outbox message inline, and the outcomes back: so the handler does not read back
/// the uploads (with their content) that were written a moment ago, and the committer does not read back the outcomes
/// the handler just wrote. Only the first attempt uses it; a retry, or a message another host or a restarted host
/// picks up, reads the database as before.
/// </summary>
internal sealed class InlineUploadGroups
{
    private readonly ConcurrentDictionary<Guid, InlineUploadGroup> _groups = new();

    public InlineUploadGroup Register(Guid messageId, IReadOnlyList<Upload> uploads)
    {
        var group = new InlineUploadGroup(uploads);
        _groups[messageId] = group;
        return group;
    }

    public bool TryGet(Guid messageId, out InlineUploadGroup group) => _groups.TryGetValue(messageId, out group!);

    public void Remove(Guid messageId) => _groups.TryRemove(messageId, out _);
}

/// <summary>The uploads one transaction stored (all Pending), and the outcomes the handler recorded for them.</summary>
internal sealed class InlineUploadGroup(IReadOnlyList<Upload> uploads)
{
    private readonly ConcurrentDictionary<Guid, (UploadOutcome Outcome, string Summary)> _outcomes = new();

    public IReadOnlyList<Upload> Uploads { get; } = uploads;

    /// <summary>Called only for an upload whose outcome this handler's UPDATE actually wrote (it was still Pending).</summary>
    public void Recorded(Guid uploadId, UploadOutcome outcome, string summary) => _outcomes[uploadId] = (outcome, summary);

    public bool TryGetOutcome(Guid uploadId, out (UploadOutcome Outcome, string Summary) outcome) => _outcomes.TryGetValue(uploadId, out outcome);
}
