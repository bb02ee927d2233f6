namespace Onboarding.Sftp;

/// <summary>
/// The application side of an SFTP server session: one instance serves one session. Paths arrive
/// exactly as the client sent them; the handler resolves, confines and authorises them.
/// Errors are returned as <see cref="SftpStatus"/>; an exception thrown from a method becomes
/// SSH_FX_FAILURE for that request, is logged, and the session continues.
/// <para>
/// Methods may be called concurrently. The server keeps request order where it matters
/// (draft-ietf-secsh-filexfer-02 §6.1, see <c>RequestOrdering</c>): READ and WRITE requests on one
/// handle run in parallel only when their byte ranges do not overlap (or both are reads); any
/// other request on a handle waits for everything before it on that handle; path requests wait
/// for every request before them. So <see cref="WriteAtAsync"/> must tolerate concurrent calls
/// for disjoint ranges of the same handle, arriving in any offset order.
/// </para>
/// </summary>
public interface ISftpHandler
{
    /// <summary>§6.3 SSH_FXP_OPEN. Returns the handler's own handle object.</summary>
    ValueTask<SftpResult<object>> OpenFileAsync(string path, SftpOpenFlags flags, SftpAttributes attributes, CancellationToken cancellationToken);

    /// <summary>
    /// §6.4 SSH_FXP_WRITE. Writes arrive out of order when the client pipelines. <paramref name="data"/>
    /// is a pooled buffer, valid only until the returned task completes: copy what must be kept.
    /// </summary>
    ValueTask<SftpStatus> WriteAtAsync(object handle, ulong offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>
    /// §6.4 SSH_FXP_READ into <paramref name="buffer"/> (valid only until the returned task completes).
    /// Returns the number of bytes read; 0 means end of file.
    /// </summary>
    ValueTask<SftpResult<int>> ReadAtAsync(object handle, ulong offset, Memory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>
    /// §6.3 SSH_FXP_CLOSE of a file or directory handle. For an upload this is the commit point:
    /// a non-OK status (e.g. Failure "record rejected: serial mismatch") reaches the client's user.
    /// </summary>
    ValueTask<SftpStatus> CloseAsync(object handle, CancellationToken cancellationToken);

    /// <summary>A handle was still open when the session ended: discard, do not commit.</summary>
    ValueTask AbortAsync(object handle);

    /// <summary>§6.7 SSH_FXP_OPENDIR.</summary>
    ValueTask<SftpResult<object>> OpenDirectoryAsync(string path, CancellationToken cancellationToken);

    /// <summary>
    /// §6.7 SSH_FXP_READDIR: the next batch of entries (with `ls -l` style long names); an empty
    /// batch means end of directory. The server splits batches that do not fit one packet.
    /// </summary>
    ValueTask<SftpResult<IReadOnlyList<SftpFileEntry>>> ReadDirectoryAsync(object handle, CancellationToken cancellationToken);

    /// <summary>§6.8 SSH_FXP_STAT (follows symbolic links).</summary>
    ValueTask<SftpResult<SftpAttributes>> StatAsync(string path, CancellationToken cancellationToken);

    /// <summary>§6.8 SSH_FXP_LSTAT (does not follow symbolic links).</summary>
    ValueTask<SftpResult<SftpAttributes>> LStatAsync(string path, CancellationToken cancellationToken);

    /// <summary>§6.8 SSH_FXP_FSTAT.</summary>
    ValueTask<SftpResult<SftpAttributes>> FStatAsync(object handle, CancellationToken cancellationToken);

    /// <summary>§6.9 SSH_FXP_SETSTAT.</summary>
    ValueTask<SftpStatus> SetStatAsync(string path, SftpAttributes attributes, CancellationToken cancellationToken) =>
        ValueTask.FromResult(SftpStatus.OpUnsupported());

    /// <summary>§6.9 SSH_FXP_FSETSTAT.</summary>
    ValueTask<SftpStatus> FSetStatAsync(object handle, SftpAttributes attributes, CancellationToken cancellationToken) =>
        ValueTask.FromResult(SftpStatus.OpUnsupported());

    /// <summary>§6.5 SSH_FXP_REMOVE.</summary>
    ValueTask<SftpStatus> RemoveAsync(string path, CancellationToken cancellationToken);

    /// <summary>
    /// §6.5 SSH_FXP_RENAME (<paramref name="overwrite"/> false: fail if the target exists) or
    /// posix-rename@openssh.com (<paramref name="overwrite"/> true: replace atomically).
    /// </summary>
    ValueTask<SftpStatus> RenameAsync(string oldPath, string newPath, bool overwrite, CancellationToken cancellationToken);

    /// <summary>§6.6 SSH_FXP_MKDIR.</summary>
    ValueTask<SftpStatus> MakeDirectoryAsync(string path, SftpAttributes attributes, CancellationToken cancellationToken);

    /// <summary>§6.6 SSH_FXP_RMDIR.</summary>
    ValueTask<SftpStatus> RemoveDirectoryAsync(string path, CancellationToken cancellationToken);

    /// <summary>§6.10 SSH_FXP_REALPATH: the canonical absolute form of <paramref name="path"/>.</summary>
    ValueTask<SftpResult<string>> RealPathAsync(string path, CancellationToken cancellationToken);

    /// <summary>§6.10 SSH_FXP_READLINK. Refused unless overridden.</summary>
    ValueTask<SftpResult<string>> ReadLinkAsync(string path, CancellationToken cancellationToken) =>
        ValueTask.FromResult<SftpResult<string>>(SftpStatus.OpUnsupported());

    /// <summary>§6.10 SSH_FXP_SYMLINK: create <paramref name="linkPath"/> pointing at <paramref name="targetPath"/>. Refused unless overridden.</summary>
    ValueTask<SftpStatus> SymlinkAsync(string linkPath, string targetPath, CancellationToken cancellationToken) =>
        ValueTask.FromResult(SftpStatus.OpUnsupported());

    /// <summary>statvfs@openssh.com. Refused unless overridden.</summary>
    ValueTask<SftpResult<SftpStatVfs>> StatVfsAsync(string path, CancellationToken cancellationToken) =>
        ValueTask.FromResult<SftpResult<SftpStatVfs>>(SftpStatus.OpUnsupported());

    /// <summary>fsync@openssh.com: make written data durable before CLOSE. Succeeds unless overridden.</summary>
    ValueTask<SftpStatus> FsyncAsync(object handle, CancellationToken cancellationToken) => ValueTask.FromResult(SftpStatus.Ok);
}
