using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Onboarding.Accounts.Contracts;
using Onboarding.Drop.Data;
using Onboarding.Sftp;

namespace Onboarding.Drop.Sftp;

/// <summary>
/// One manufacturer's SFTP session on the drop: <c>/incoming</c> takes uploads (each bookkept on CLOSE),
/// <c>/processed</c> and <c>/rejected</c> hold a <c>&lt;name&gt;.result</c> file per upload saying what happened.
/// A just-closed upload stays visible (stat, listing) in <c>/incoming</c> for a while: see <see cref="RecentUploads"/>.
/// Requests may run concurrently, so every database call gets its own scope.
/// </summary>
/// <param name="connectionId">Named in every line about a file that was not accepted, so an operator finds the session.</param>
/// <param name="sessionEnded">Cancelled when the SSH channel closes: a CLOSE still waiting for its group is then dropped.</param>
/// <param name="tellUser">
/// Writes a line to the user's terminal (SSH stderr): OpenSSH's sftp shows only its own text for a status code,
/// so this is how a person running it learns why an upload was rejected.
/// </param>
internal sealed class ManufacturerDrop(
    ManufacturerAccount account,
    IServiceScopeFactory scopes,
    DropQuota quota,
    TimeProvider clock,
    ILogger logger,
    Func<string, Task> tellUser,
    RecentUploads recentUploads,
    UploadCommitter committer,
    string connectionId,
    CancellationToken sessionEnded) : ISftpHandler
{
    private const uint Directory = 0x4000;
    private const uint RegularFile = 0x8000;
    private const string ResultSuffix = ".result";

    public ValueTask<SftpResult<object>> OpenFileAsync(string path, SftpOpenFlags flags, SftpAttributes attributes, CancellationToken cancellationToken)
    {
        var resolved = DropPath.Resolve(path);
        if (!resolved.IsOk)
            return Refuse<object>(path, resolved.Status);
        var target = resolved.Value;

        if ((flags & SftpOpenFlags.Write) != 0)
        {
            if (target.Folder != DropFolder.Incoming || target.Name is null)
                return Refuse<object>(path, SftpStatus.PermissionDenied("uploads go to /incoming; the other folders are read-only"));
            if (!DropPath.IsValidUploadName(target.Name))
            {
                return Refuse<object>(path, SftpStatus.PermissionDenied(
                    "file names may use letters, digits, '.', '_' and '-', must not start with '.', and have at most 128 characters"));
            }

            // Debug: at hundreds of files a second a line per OPEN costs more than it tells; the group commit logs a line per group.
            logger.LogDebug("Upload of {FileName} started", target.Name);
            return ValueTask.FromResult<SftpResult<object>>(new UploadBuffer(target.Name, quota.MaxFileBytes));
        }

        return OpenResultAsync(path, target, cancellationToken);
    }

    private async ValueTask<SftpResult<object>> OpenResultAsync(string path, DropPath target, CancellationToken cancellationToken)
    {
        if (target.Folder == DropFolder.Incoming && target.Name is not null
            && await recentUploads.FindAsync(account.ManufacturerId, target.Name, cancellationToken) is not null)
        {
            return await Refuse<object>(path, SftpStatus.PermissionDenied(
                $"uploads cannot be read back; read /processed/{target.Name}{ResultSuffix} or /rejected/{target.Name}{ResultSuffix}"));
        }

        var upload = await FindResultAsync(target, cancellationToken);
        if (upload is null)
            return await Refuse<object>(path, SftpStatus.NoSuchFile($"no such file: {path}"));
        return new ResultFile(Encoding.UTF8.GetBytes(upload.Report));
    }

    public ValueTask<SftpStatus> WriteAtAsync(object handle, ulong offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        ValueTask.FromResult(handle is UploadBuffer upload
            ? upload.WriteAt(offset, data.Span)
            : SftpStatus.PermissionDenied("this handle is not open for writing"));

    public ValueTask<SftpResult<int>> ReadAtAsync(object handle, ulong offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (handle is not ResultFile file)
            return ValueTask.FromResult<SftpResult<int>>(SftpStatus.PermissionDenied("uploads cannot be read back; read the .result file instead"));
        if (offset >= (ulong)file.Content.Length)
            return ValueTask.FromResult<SftpResult<int>>(SftpStatus.Eof());
        var count = (int)Math.Min((ulong)buffer.Length, (ulong)file.Content.Length - offset);
        file.Content.AsSpan((int)offset, count).CopyTo(buffer.Span);
        return ValueTask.FromResult<SftpResult<int>>(count);
    }

    public async ValueTask<SftpStatus> CloseAsync(object handle, CancellationToken cancellationToken) =>
        handle is UploadBuffer upload ? await CommitAsync(upload, cancellationToken) : SftpStatus.Ok;

    public ValueTask AbortAsync(object handle)
    {
        if (handle is UploadBuffer upload)
            logger.LogWarning("Upload of {FileName} on connection {ConnectionId} abandoned: the connection ended before CLOSE; nothing was kept", upload.Name, connectionId);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// CLOSE of an upload: committed with the other CLOSEs of this manufacturer that arrive meanwhile (group commit,
    /// <see cref="UploadCommitter"/>): the raw file kept, its quota reserved, its records bookkept; then answered with
    /// this file's own outcome. Nothing is acknowledged before it is committed.
    /// </summary>
    private async Task<SftpStatus> CommitAsync(UploadBuffer buffer, CancellationToken cancellationToken)
    {
        var content = buffer.TryComplete(out var incomplete);
        if (content is null)
        {
            logger.LogWarning("Upload of {FileName} on connection {ConnectionId} discarded at close: {Reason}", buffer.Name, connectionId, incomplete);
            return SftpStatus.Failure($"upload incomplete, nothing was kept: {incomplete}");
        }

        CloseResult result;
        using (var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, sessionEnded))
        {
            try
            {
                result = await committer.CommitAsync(account, buffer.Name, content, waiting.Token);
            }
            catch (OperationCanceledException) when (waiting.IsCancellationRequested)
            {
                // SSH_FX_CONNECTION_LOST (draft-02 §7): nobody is left to read it, but the request is answered, not failed.
                logger.LogWarning("Upload of {FileName} on connection {ConnectionId} abandoned: the session ended before its CLOSE was committed; nothing was kept", buffer.Name, connectionId);
                return new SftpStatus(SftpStatusCode.ConnectionLost, "the session ended before the upload was committed; nothing was kept");
            }
        }

        switch (result.Verdict)
        {
            case CloseVerdict.Accepted:
                // Debug: UploadGroupCommit logs one line per group with the counts; the failures below keep a line each.
                logger.LogDebug("Upload {UploadId} of {FileName} accepted: {Summary}", result.UploadId, buffer.Name, result.Summary);
                return SftpStatus.Ok;
            case CloseVerdict.Rejected:
                logger.LogWarning("Upload {UploadId} of {FileName} on connection {ConnectionId} rejected: {Summary}", result.UploadId, buffer.Name, connectionId, result.Summary);
                var message = RejectionMessage.For(buffer.Name, $"/rejected/{buffer.Name}{ResultSuffix}", result.Summary);
                await tellUser(message);
                return SftpStatus.Failure(message);
            case CloseVerdict.QuotaExceeded:
                logger.LogWarning("Upload of {FileName} on connection {ConnectionId} refused: quota of {MaxFiles} files / {MaxTotalBytes} bytes reached", buffer.Name, connectionId, quota.MaxFiles, quota.MaxTotalBytes);
                return SftpStatus.Failure(result.Summary);
            case CloseVerdict.KeptNotBookkept:
                logger.LogError("Upload {UploadId} of {FileName} on connection {ConnectionId} was kept but could not be bookkept yet", result.UploadId, buffer.Name, connectionId);
                return SftpStatus.Failure($"the upload was kept (id {result.UploadId}) but could not be processed because of an NMS error; it will be retried, see /processed or /rejected later");
            case CloseVerdict.KeptInProgress:
                logger.LogWarning("Upload {UploadId} of {FileName} on connection {ConnectionId} is being bookkept elsewhere and has no outcome yet", result.UploadId, buffer.Name, connectionId);
                return SftpStatus.Failure($"the upload was kept (id {result.UploadId}) and is being processed; see /processed or /rejected later");
            default:
                logger.LogError("Upload of {FileName} on connection {ConnectionId} not stored: {Reason}", buffer.Name, connectionId, result.Summary);
                return SftpStatus.Failure(result.Summary);
        }
    }

    public async ValueTask<SftpResult<object>> OpenDirectoryAsync(string path, CancellationToken cancellationToken)
    {
        var resolved = DropPath.Resolve(path);
        if (!resolved.IsOk)
            return await Refuse<object>(path, resolved.Status);
        var target = resolved.Value;
        if (target.Name is not null)
            return await Refuse<object>(path, SftpStatus.NoSuchFile($"not a directory: {path}"));

        var now = clock.GetUtcNow();
        List<SftpFileEntry> entries = target.Folder switch
        {
            DropFolder.Root => [Entry(".", FolderAttributes(DropFolder.Root), now), Entry("..", FolderAttributes(DropFolder.Root), now),
                .. new[] { DropFolder.Incoming, DropFolder.Processed, DropFolder.Rejected }
                    .Select(f => Entry(f.ToString().ToLowerInvariant(), FolderAttributes(f), now))],
            DropFolder.Incoming => [Entry(".", FolderAttributes(DropFolder.Incoming), now), Entry("..", FolderAttributes(DropFolder.Root), now),
                .. (await recentUploads.ListAsync(account.ManufacturerId, cancellationToken)).Select(u => Entry(u.FileName, RecentUploadAttributes(u), now))],
            _ => [Entry(".", FolderAttributes(target.Folder), now), Entry("..", FolderAttributes(DropFolder.Root), now),
                .. (await ResultsAsync(target.Folder, cancellationToken)).Select(u => Entry(u.FileName + ResultSuffix, ResultAttributes(u), now))],
        };
        return new DirectoryListing(entries);
    }

    public ValueTask<SftpResult<IReadOnlyList<SftpFileEntry>>> ReadDirectoryAsync(object handle, CancellationToken cancellationToken)
    {
        if (handle is not DirectoryListing listing)
            return ValueTask.FromResult<SftpResult<IReadOnlyList<SftpFileEntry>>>(SftpStatus.Failure("not a directory handle"));
        return ValueTask.FromResult(new SftpResult<IReadOnlyList<SftpFileEntry>>(listing.Next()));
    }

    public async ValueTask<SftpResult<SftpAttributes>> StatAsync(string path, CancellationToken cancellationToken)
    {
        var resolved = DropPath.Resolve(path);
        if (!resolved.IsOk)
            return await Refuse<SftpAttributes>(path, resolved.Status);
        var target = resolved.Value;
        if (target.Name is null)
            return FolderAttributes(target.Folder);
        if (target.Folder == DropFolder.Incoming)
        {
            var recent = await recentUploads.FindAsync(account.ManufacturerId, target.Name, cancellationToken);
            return recent is null ? SftpStatus.NoSuchFile($"no such file: {path}") : RecentUploadAttributes(recent);
        }

        var upload = await FindResultAsync(target, cancellationToken);
        return upload is null ? SftpStatus.NoSuchFile($"no such file: {path}") : ResultAttributes(upload);
    }

    public ValueTask<SftpResult<SftpAttributes>> LStatAsync(string path, CancellationToken cancellationToken) => StatAsync(path, cancellationToken);

    public ValueTask<SftpResult<SftpAttributes>> FStatAsync(object handle, CancellationToken cancellationToken) =>
        ValueTask.FromResult<SftpResult<SftpAttributes>>(handle switch
        {
            ResultFile file => new SftpAttributes { Size = (ulong)file.Content.Length, Permissions = RegularFile | 0x100 },
            UploadBuffer => new SftpAttributes { Size = 0, Permissions = RegularFile | 0x180 },
            _ => FolderAttributes(DropFolder.Root),
        });

    // Clients such as scp set times and modes after an upload; the drop keeps no such metadata, so accept and ignore.
    public ValueTask<SftpStatus> FSetStatAsync(object handle, SftpAttributes attributes, CancellationToken cancellationToken) =>
        ValueTask.FromResult(SftpStatus.Ok);

    public ValueTask<SftpStatus> SetStatAsync(string path, SftpAttributes attributes, CancellationToken cancellationToken)
    {
        var resolved = DropPath.Resolve(path);
        return ValueTask.FromResult(resolved.IsOk ? SftpStatus.Ok : resolved.Status);
    }

    public ValueTask<SftpStatus> RemoveAsync(string path, CancellationToken cancellationToken) =>
        RefuseStatus(path, "the drop keeps every upload; files cannot be removed");

    public ValueTask<SftpStatus> RenameAsync(string oldPath, string newPath, bool overwrite, CancellationToken cancellationToken) =>
        RefuseStatus(oldPath, "files in the drop cannot be renamed; upload under the final name");

    public ValueTask<SftpStatus> MakeDirectoryAsync(string path, SftpAttributes attributes, CancellationToken cancellationToken) =>
        RefuseStatus(path, "the drop has a fixed layout: /incoming, /processed, /rejected");

    public ValueTask<SftpStatus> RemoveDirectoryAsync(string path, CancellationToken cancellationToken) =>
        RefuseStatus(path, "the drop has a fixed layout: /incoming, /processed, /rejected");

    public ValueTask<SftpStatus> SymlinkAsync(string linkPath, string targetPath, CancellationToken cancellationToken) =>
        RefuseStatus(linkPath, "links are not allowed in the drop");

    public ValueTask<SftpResult<string>> ReadLinkAsync(string path, CancellationToken cancellationToken) =>
        Refuse<string>(path, SftpStatus.PermissionDenied("links are not allowed in the drop"));

    public ValueTask<SftpResult<string>> RealPathAsync(string path, CancellationToken cancellationToken)
    {
        var resolved = DropPath.Resolve(path);
        return resolved.IsOk
            ? ValueTask.FromResult<SftpResult<string>>(resolved.Value.ToString())
            : Refuse<string>(path, resolved.Status);
    }

    public async ValueTask<SftpResult<SftpStatVfs>> StatVfsAsync(string path, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DropDbContext>();
        var usage = await db.Usage.AsNoTracking().SingleOrDefaultAsync(u => u.ManufacturerId == account.ManufacturerId, cancellationToken);
        var files = usage?.Files ?? 0;
        var bytes = usage?.Bytes ?? 0;
        const ulong block = 4096;
        var totalBlocks = (ulong)quota.MaxTotalBytes / block;
        var freeBlocks = (ulong)Math.Max(0, quota.MaxTotalBytes - bytes) / block;
        var freeFiles = (ulong)Math.Max(0, quota.MaxFiles - files);
        return new SftpStatVfs(block, block, totalBlocks, freeBlocks, freeBlocks, (ulong)quota.MaxFiles, freeFiles, freeFiles, 0, 0, DropPath.MaxNameLength);
    }

    /// <summary>The result files of one folder; a name uploaded more than once shows its latest outcome.</summary>
    private async Task<List<ResultEntry>> ResultsAsync(DropFolder folder, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var outcome = folder == DropFolder.Processed ? UploadOutcome.Accepted : UploadOutcome.Rejected;
        var results = await scope.ServiceProvider.GetRequiredService<DropDbContext>().Uploads.AsNoTracking()
            .Where(u => u.ManufacturerId == account.ManufacturerId && u.Outcome == outcome)
            .OrderByDescending(u => u.ReceivedAt)
            .Select(u => new ResultEntry(u.FileName, u.ReceivedAt, u.Report))
            .ToListAsync(cancellationToken);
        return [.. results.DistinctBy(r => r.FileName)];
    }

    private async Task<ResultEntry?> FindResultAsync(DropPath target, CancellationToken cancellationToken)
    {
        if (target.Folder is not (DropFolder.Processed or DropFolder.Rejected) || target.Name is null || !target.Name.EndsWith(ResultSuffix, StringComparison.Ordinal))
            return null;
        var fileName = target.Name[..^ResultSuffix.Length];
        var outcome = target.Folder == DropFolder.Processed ? UploadOutcome.Accepted : UploadOutcome.Rejected;
        await using var scope = scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<DropDbContext>().Uploads.AsNoTracking()
            .Where(u => u.ManufacturerId == account.ManufacturerId && u.FileName == fileName && u.Outcome == outcome)
            .OrderByDescending(u => u.ReceivedAt)
            .Select(u => new ResultEntry(u.FileName, u.ReceivedAt, u.Report))
            .FirstOrDefaultAsync(cancellationToken);
    }

    // /incoming is rwx (uploads, and a listing of the recent ones), the others r-x: the permission bits tell clients the truth.
    private static SftpAttributes FolderAttributes(DropFolder folder) => new()
    {
        Size = 4096,
        Permissions = Directory | (folder == DropFolder.Incoming ? 0x1C0u : 0x140u),
        ModifyTime = 0,
        AccessTime = 0,
    };

    private static SftpAttributes ResultAttributes(ResultEntry upload) => new()
    {
        Size = (ulong)Encoding.UTF8.GetByteCount(upload.Report),
        Permissions = RegularFile | 0x100,
        ModifyTime = (uint)upload.ReceivedAt.ToUnixTimeSeconds(),
        AccessTime = (uint)upload.ReceivedAt.ToUnixTimeSeconds(),
    };

    // Write-only: an upload can be replaced by uploading the name again, but never read back.
    private static SftpAttributes RecentUploadAttributes(RecentUpload upload) => new()
    {
        Size = (ulong)upload.Size,
        Permissions = RegularFile | 0x80,
        ModifyTime = (uint)upload.ReceivedAt.ToUnixTimeSeconds(),
        AccessTime = (uint)upload.ReceivedAt.ToUnixTimeSeconds(),
    };

    private SftpFileEntry Entry(string name, SftpAttributes attributes, DateTimeOffset now) =>
        new(name, SftpLongName.Format(name, attributes, attributes.IsDirectory ? 2UL : 1UL, account.SftpUsername, "nms", now), attributes);

    private ValueTask<SftpResult<T>> Refuse<T>(string path, SftpStatus status)
    {
        logger.LogWarning("Refused {Path}: {Reason}", path, status.Message);
        return ValueTask.FromResult<SftpResult<T>>(status);
    }

    private ValueTask<SftpStatus> RefuseStatus(string path, string reason)
    {
        logger.LogWarning("Refused {Path}: {Reason}", path, reason);
        return ValueTask.FromResult(SftpStatus.PermissionDenied(reason));
    }

    private sealed record ResultFile(byte[] Content);

    private sealed record ResultEntry(string FileName, DateTimeOffset ReceivedAt, string Report);

    /// <summary>All entries in one batch, then the empty batch that means end of directory.</summary>
    private sealed class DirectoryListing(List<SftpFileEntry> entries)
    {
        private bool _sent;

        public List<SftpFileEntry> Next()
        {
            if (_sent)
                return [];
            _sent = true;
            return entries;
        }
    }
}
