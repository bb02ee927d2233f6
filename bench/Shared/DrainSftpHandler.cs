using Onboarding.Sftp;

namespace Onboarding.Bench.Harness;

/// <summary>
/// An SFTP handler that accepts every upload and throws the bytes away, so a benchmark measures
/// the protocol stack (SSH transport, SFTP framing, request ordering) and not a disk or a database.
/// </summary>
public sealed class DrainSftpHandler : ISftpHandler
{
    private long _bytes;
    private long _closed;

    public long Bytes => Interlocked.Read(ref _bytes);

    public long FilesClosed => Interlocked.Read(ref _closed);

    public void Reset()
    {
        Interlocked.Exchange(ref _bytes, 0);
        Interlocked.Exchange(ref _closed, 0);
    }

    public ValueTask<SftpResult<object>> OpenFileAsync(string path, SftpOpenFlags flags, SftpAttributes attributes, CancellationToken cancellationToken) =>
        ValueTask.FromResult<SftpResult<object>>(new object());

    public ValueTask<SftpStatus> WriteAtAsync(object handle, ulong offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        Interlocked.Add(ref _bytes, data.Length);
        return ValueTask.FromResult(SftpStatus.Ok);
    }

    public ValueTask<SftpResult<int>> ReadAtAsync(object handle, ulong offset, Memory<byte> buffer, CancellationToken cancellationToken) =>
        ValueTask.FromResult<SftpResult<int>>(0);

    /// <summary>Simulated commit latency on CLOSE (the drop commits to Postgres there).</summary>
    public TimeSpan CloseDelay { get; init; }

    public async ValueTask<SftpStatus> CloseAsync(object handle, CancellationToken cancellationToken)
    {
        if (CloseDelay > TimeSpan.Zero)
            await Task.Delay(CloseDelay, cancellationToken);
        Interlocked.Increment(ref _closed);
        return SftpStatus.Ok;
    }

    public ValueTask AbortAsync(object handle) => ValueTask.CompletedTask;

    public ValueTask<SftpResult<object>> OpenDirectoryAsync(string path, CancellationToken cancellationToken) =>
        ValueTask.FromResult<SftpResult<object>>(SftpStatus.OpUnsupported());

    public ValueTask<SftpResult<IReadOnlyList<SftpFileEntry>>> ReadDirectoryAsync(object handle, CancellationToken cancellationToken) =>
        ValueTask.FromResult<SftpResult<IReadOnlyList<SftpFileEntry>>>(SftpStatus.OpUnsupported());

    public ValueTask<SftpResult<SftpAttributes>> StatAsync(string path, CancellationToken cancellationToken) =>
        ValueTask.FromResult<SftpResult<SftpAttributes>>(SftpStatus.NoSuchFile());

    public ValueTask<SftpResult<SftpAttributes>> LStatAsync(string path, CancellationToken cancellationToken) =>
        ValueTask.FromResult<SftpResult<SftpAttributes>>(SftpStatus.NoSuchFile());

    public ValueTask<SftpResult<SftpAttributes>> FStatAsync(object handle, CancellationToken cancellationToken) =>
        ValueTask.FromResult<SftpResult<SftpAttributes>>(SftpAttributes.Empty);

    public ValueTask<SftpStatus> RemoveAsync(string path, CancellationToken cancellationToken) => ValueTask.FromResult(SftpStatus.OpUnsupported());

    public ValueTask<SftpStatus> RenameAsync(string oldPath, string newPath, bool overwrite, CancellationToken cancellationToken) =>
        ValueTask.FromResult(SftpStatus.OpUnsupported());

    public ValueTask<SftpStatus> MakeDirectoryAsync(string path, SftpAttributes attributes, CancellationToken cancellationToken) =>
        ValueTask.FromResult(SftpStatus.OpUnsupported());

    public ValueTask<SftpStatus> RemoveDirectoryAsync(string path, CancellationToken cancellationToken) =>
        ValueTask.FromResult(SftpStatus.OpUnsupported());

    public ValueTask<SftpResult<string>> RealPathAsync(string path, CancellationToken cancellationToken) =>
        ValueTask.FromResult<SftpResult<string>>(path.StartsWith('/') ? path : "/" + path);
}
