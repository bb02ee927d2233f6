using System.Collections.Concurrent;
using System.IO.Pipelines;
using Onboarding.Sftp.Packets;
using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp;

/// <summary>
/// An SFTP version 3 client (draft-ietf-secsh-filexfer-02) over any duplex stream. Requests may
/// be issued concurrently; responses are matched by request id. Server errors surface as
/// <see cref="SftpStatusException"/>, protocol violations as <see cref="SftpProtocolException"/>.
/// The stream is not disposed by the client.
/// </summary>
public sealed class SftpClient : IAsyncDisposable
{
    private readonly Stream _channel;
    private readonly SftpClientOptions _options;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<uint, TaskCompletionSource<SftpPacket>> _pending = new();
    private readonly TaskCompletionSource<VersionPacket> _version = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _shutdown = new();
    private Task? _readLoop;
    private volatile Exception? _terminal;
    private int _disposed;
    private int _nextRequestId;

    public SftpClient(Stream channel, SftpClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(channel);
        _channel = channel;
        _options = options ?? SftpClientOptions.Default;
    }

    /// <summary>The version the server answered in SSH_FXP_VERSION.</summary>
    public uint ServerVersion { get; private set; }

    /// <summary>Extension pairs from SSH_FXP_VERSION (§4), name → data.</summary>
    public IReadOnlyDictionary<string, string> ServerExtensions { get; private set; } = new Dictionary<string, string>();

    /// <summary>The server's limits@openssh.com answer, when it advertises the extension.</summary>
    public SftpLimits? ServerLimits { get; private set; }

    /// <summary>§4: sends INIT (version 3), reads VERSION, then asks for limits@openssh.com if offered.</summary>
    public async Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        if (_readLoop is not null)
        {
            throw new InvalidOperationException("Already connected.");
        }

        _readLoop = ReadLoopAsync(_shutdown.Token);
        await SendAsync(new InitPacket(3, []), cancellationToken);
        var version = await _version.Task.WaitAsync(cancellationToken);
        if (version.Version != 3)
        {
            throw new SftpProtocolException(SftpProtocolError.UnsupportedVersion, $"server speaks SFTP version {version.Version}");
        }

        ServerVersion = version.Version;
        var extensions = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var e in version.Extensions)
        {
            extensions.TryAdd(e.Name, e.Data);
        }

        ServerExtensions = extensions;
        if (extensions.ContainsKey(OpenSshExtensions.Limits))
        {
            var reply = Expect<ExtendedReplyPacket>(await RequestAsync(id => new ExtendedPacket(id, OpenSshExtensions.Limits, ReadOnlyMemory<byte>.Empty), cancellationToken));
            ServerLimits = OpenSshExtensions.ReadLimits(reply.Data.Span);
        }
    }

    // ---- Whole-file operations -------------------------------------------------------------

    /// <summary>
    /// Uploads <paramref name="source"/> to <paramref name="remotePath"/> (created or truncated),
    /// keeping up to <see cref="SftpClientOptions.MaxOutstandingRequests"/> WRITEs in flight.
    /// The server's answer to CLOSE is the verdict on the upload: a refusal is thrown as
    /// <see cref="SftpStatusException"/> carrying the server's message.
    /// </summary>
    public async Task<long> UploadAsync(string remotePath, Stream source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var chunkSize = EffectiveChunk(_options.WriteChunkSize, ServerLimits?.MaxWriteLength);
        var handle = await OpenAsync(remotePath, SftpOpenFlags.Write | SftpOpenFlags.Create | SftpOpenFlags.Truncate, SftpAttributes.Empty, cancellationToken);
        var outstanding = new Queue<Task<SftpPacket>>();
        ulong offset = 0;
        try
        {
            while (true)
            {
                var buffer = new byte[chunkSize];
                var n = await source.ReadAtLeastAsync(buffer, chunkSize, throwOnEndOfStream: false, cancellationToken);
                if (n == 0)
                {
                    break;
                }

                while (outstanding.Count >= _options.MaxOutstandingRequests)
                {
                    ExpectOk(await outstanding.Dequeue());
                }

                var at = offset;
                var data = buffer.AsMemory(0, n);
                outstanding.Enqueue(RequestAsync(id => new WritePacket(id, handle.Value, at, data), cancellationToken));
                offset += (ulong)n;
            }

            while (outstanding.Count > 0)
            {
                ExpectOk(await outstanding.Dequeue());
            }
        }
        catch
        {
            await DrainQuietlyAsync(outstanding);
            await CloseQuietlyAsync(handle);
            throw;
        }

        await CloseAsync(handle, cancellationToken);
        return (long)offset;
    }

    /// <summary>
    /// Downloads <paramref name="remotePath"/> into <paramref name="destination"/> with pipelined
    /// READs, writing in order. §6.4 allows short reads; the missing tail is fetched before moving on.
    /// </summary>
    public async Task<long> DownloadAsync(string remotePath, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var chunkSize = (uint)EffectiveChunk(_options.ReadChunkSize, ServerLimits?.MaxReadLength);
        var handle = await OpenAsync(remotePath, SftpOpenFlags.Read, SftpAttributes.Empty, cancellationToken);
        var outstanding = new Queue<(ulong Offset, Task<SftpPacket> Response)>();
        ulong next = 0;
        long written = 0;
        var eof = false;
        try
        {
            while (true)
            {
                while (!eof && outstanding.Count < _options.MaxOutstandingRequests)
                {
                    var at = next;
                    outstanding.Enqueue((at, RequestAsync(id => new ReadPacket(id, handle.Value, at, chunkSize), cancellationToken)));
                    next += chunkSize;
                }

                if (outstanding.Count == 0)
                {
                    break;
                }

                var (offset, response) = outstanding.Dequeue();
                var packet = await response;
                if (eof)
                {
                    continue; // past the end already; just collect the answer
                }

                var data = ReadData(packet);
                if (data is null)
                {
                    eof = true;
                    continue;
                }

                if (data.Value.Length > chunkSize)
                {
                    throw new SftpProtocolException(SftpProtocolError.UnexpectedPacket, $"READ of {chunkSize} bytes answered with {data.Value.Length}");
                }

                await destination.WriteAsync(data.Value, cancellationToken);
                written += data.Value.Length;
                var got = (uint)data.Value.Length;
                while (got < chunkSize)
                {
                    var at = offset + got;
                    var want = chunkSize - got;
                    var rest = ReadData(await RequestAsync(id => new ReadPacket(id, handle.Value, at, want), cancellationToken));
                    if (rest is null)
                    {
                        eof = true;
                        break;
                    }

                    if (rest.Value.IsEmpty || rest.Value.Length > want)
                    {
                        throw new SftpProtocolException(SftpProtocolError.UnexpectedPacket, $"READ of {want} bytes answered with {rest.Value.Length}");
                    }

                    await destination.WriteAsync(rest.Value, cancellationToken);
                    written += rest.Value.Length;
                    got += (uint)rest.Value.Length;
                }
            }
        }
        catch
        {
            await DrainQuietlyAsync(new Queue<Task<SftpPacket>>(outstanding.Select(o => o.Response)));
            await CloseQuietlyAsync(handle);
            throw;
        }

        await CloseAsync(handle, cancellationToken);
        return written;
    }

    /// <summary>§6.7: OPENDIR, READDIR until EOF, CLOSE. "." and ".." are left out.</summary>
    public async Task<IReadOnlyList<SftpFileEntry>> ListDirectoryAsync(string path, CancellationToken cancellationToken = default)
    {
        var handle = new SftpFileHandle(Expect<HandlePacket>(await RequestAsync(id => new OpenDirPacket(id, path), cancellationToken)).Handle);
        var entries = new List<SftpFileEntry>();
        try
        {
            while (true)
            {
                var packet = await RequestAsync(id => new ReadDirPacket(id, handle.Value), cancellationToken);
                if (packet is StatusPacket { Code: SftpStatusCode.Eof })
                {
                    break;
                }

                entries.AddRange(Expect<NamePacket>(packet).Entries.Where(e => e.FileName is not "." and not ".."));
            }
        }
        catch
        {
            await CloseQuietlyAsync(handle);
            throw;
        }

        await CloseAsync(handle, cancellationToken);
        return entries;
    }

    // ---- Single requests --------------------------------------------------------------------

    /// <summary>§6.3 SSH_FXP_OPEN.</summary>
    public async Task<SftpFileHandle> OpenAsync(string path, SftpOpenFlags flags, SftpAttributes? attributes = null, CancellationToken cancellationToken = default)
    {
        var packet = await RequestAsync(id => new OpenPacket(id, path, flags, attributes ?? SftpAttributes.Empty), cancellationToken);
        return new SftpFileHandle(Expect<HandlePacket>(packet).Handle);
    }

    /// <summary>§6.4 SSH_FXP_WRITE of one block at <paramref name="offset"/>.</summary>
    public async Task WriteAsync(SftpFileHandle handle, ulong offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handle);
        ExpectOk(await RequestAsync(id => new WritePacket(id, handle.Value, offset, data), cancellationToken));
    }

    /// <summary>§6.4 SSH_FXP_READ; an empty result means end of file.</summary>
    public async Task<ReadOnlyMemory<byte>> ReadAsync(SftpFileHandle handle, ulong offset, uint length, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handle);
        return ReadData(await RequestAsync(id => new ReadPacket(id, handle.Value, offset, length), cancellationToken)) ?? ReadOnlyMemory<byte>.Empty;
    }

    /// <summary>§6.3 SSH_FXP_CLOSE; for an upload the server's verdict.</summary>
    public async Task CloseAsync(SftpFileHandle handle, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handle);
        ExpectOk(await RequestAsync(id => new ClosePacket(id, handle.Value), cancellationToken));
    }

    /// <summary>§6.8 SSH_FXP_FSTAT.</summary>
    public async Task<SftpAttributes> FStatAsync(SftpFileHandle handle, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handle);
        return Expect<AttrsPacket>(await RequestAsync(id => new FStatPacket(id, handle.Value), cancellationToken)).Attributes;
    }

    /// <summary>§6.9 SSH_FXP_FSETSTAT.</summary>
    public async Task FSetStatAsync(SftpFileHandle handle, SftpAttributes attributes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handle);
        ArgumentNullException.ThrowIfNull(attributes);
        ExpectOk(await RequestAsync(id => new FSetStatPacket(id, handle.Value, attributes), cancellationToken));
    }

    /// <summary>fsync@openssh.com.</summary>
    public async Task FsyncAsync(SftpFileHandle handle, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handle);
        RequireExtension(OpenSshExtensions.Fsync);
        var data = OpenSshExtensions.WriteSingleString(handle.Value);
        ExpectOk(await RequestAsync(id => new ExtendedPacket(id, OpenSshExtensions.Fsync, data), cancellationToken));
    }

    /// <summary>§6.8 SSH_FXP_STAT.</summary>
    public async Task<SftpAttributes> StatAsync(string path, CancellationToken cancellationToken = default) =>
        Expect<AttrsPacket>(await RequestAsync(id => new StatPacket(id, path), cancellationToken)).Attributes;

    /// <summary>§6.8 SSH_FXP_LSTAT.</summary>
    public async Task<SftpAttributes> LStatAsync(string path, CancellationToken cancellationToken = default) =>
        Expect<AttrsPacket>(await RequestAsync(id => new LStatPacket(id, path), cancellationToken)).Attributes;

    /// <summary>§6.9 SSH_FXP_SETSTAT.</summary>
    public async Task SetStatAsync(string path, SftpAttributes attributes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(attributes);
        ExpectOk(await RequestAsync(id => new SetStatPacket(id, path, attributes), cancellationToken));
    }

    /// <summary>§6.5 SSH_FXP_REMOVE.</summary>
    public async Task RemoveAsync(string path, CancellationToken cancellationToken = default) =>
        ExpectOk(await RequestAsync(id => new RemovePacket(id, path), cancellationToken));

    /// <summary>
    /// §6.5 SSH_FXP_RENAME, which fails when <paramref name="newPath"/> exists; with
    /// <paramref name="overwrite"/> it uses posix-rename@openssh.com to replace it atomically.
    /// </summary>
    public async Task RenameAsync(string oldPath, string newPath, bool overwrite = false, CancellationToken cancellationToken = default)
    {
        if (!overwrite)
        {
            ExpectOk(await RequestAsync(id => new RenamePacket(id, oldPath, newPath), cancellationToken));
            return;
        }

        RequireExtension(OpenSshExtensions.PosixRename);
        var data = OpenSshExtensions.WritePathPair(oldPath, newPath);
        ExpectOk(await RequestAsync(id => new ExtendedPacket(id, OpenSshExtensions.PosixRename, data), cancellationToken));
    }

    /// <summary>§6.6 SSH_FXP_MKDIR.</summary>
    public async Task MakeDirectoryAsync(string path, SftpAttributes? attributes = null, CancellationToken cancellationToken = default) =>
        ExpectOk(await RequestAsync(id => new MkDirPacket(id, path, attributes ?? SftpAttributes.Empty), cancellationToken));

    /// <summary>§6.6 SSH_FXP_RMDIR.</summary>
    public async Task RemoveDirectoryAsync(string path, CancellationToken cancellationToken = default) =>
        ExpectOk(await RequestAsync(id => new RmDirPacket(id, path), cancellationToken));

    /// <summary>§6.10 SSH_FXP_REALPATH.</summary>
    public async Task<string> RealPathAsync(string path, CancellationToken cancellationToken = default) =>
        SingleName(await RequestAsync(id => new RealPathPacket(id, path), cancellationToken));

    /// <summary>§6.10 SSH_FXP_READLINK.</summary>
    public async Task<string> ReadLinkAsync(string path, CancellationToken cancellationToken = default) =>
        SingleName(await RequestAsync(id => new ReadLinkPacket(id, path), cancellationToken));

    /// <summary>§6.10 SSH_FXP_SYMLINK, in OpenSSH's argument order (target first on the wire).</summary>
    public async Task SymlinkAsync(string linkPath, string targetPath, CancellationToken cancellationToken = default) =>
        ExpectOk(await RequestAsync(id => new SymlinkPacket(id, targetPath, linkPath), cancellationToken));

    /// <summary>statvfs@openssh.com.</summary>
    public async Task<SftpStatVfs> StatVfsAsync(string path, CancellationToken cancellationToken = default)
    {
        RequireExtension(OpenSshExtensions.StatVfs);
        var data = OpenSshExtensions.WriteSingleString(System.Text.Encoding.UTF8.GetBytes(path));
        var reply = Expect<ExtendedReplyPacket>(await RequestAsync(id => new ExtendedPacket(id, OpenSshExtensions.StatVfs, data), cancellationToken));
        return OpenSshExtensions.ReadStatVfs(reply.Data.Span);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _shutdown.CancelAsync();
        if (_readLoop is not null)
        {
            await _readLoop;
        }

        _shutdown.Dispose();
        _writeLock.Dispose();
    }

    // ---- Plumbing ---------------------------------------------------------------------------

    private int EffectiveChunk(int configured, ulong? serverLimit)
    {
        var chunk = (ulong)configured;
        if (serverLimit is > 0)
        {
            chunk = Math.Min(chunk, serverLimit.Value);
        }

        if (ServerLimits is { MaxPacketLength: > 1024 } limits)
        {
            chunk = Math.Min(chunk, limits.MaxPacketLength - 1024);
        }

        return (int)Math.Max(chunk, 1);
    }

    private void RequireExtension(string name)
    {
        if (!ServerExtensions.ContainsKey(name))
        {
            throw new SftpStatusException(SftpStatusCode.OpUnsupported, $"Server does not advertise {name}");
        }
    }

    private async Task<SftpPacket> RequestAsync(Func<uint, SftpRequest> build, CancellationToken cancellationToken)
    {
        if (_readLoop is null)
        {
            throw new InvalidOperationException("ConnectAsync first.");
        }

        var id = (uint)Interlocked.Increment(ref _nextRequestId);
        var tcs = new TaskCompletionSource<SftpPacket>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = tcs;
        if (_terminal is { } terminal && _pending.TryRemove(id, out _))
        {
            tcs.TrySetException(terminal);
        }
        else
        {
            try
            {
                await SendAsync(build(id), cancellationToken);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
            {
                _pending.TryRemove(id, out _);
                throw;
            }
        }

        return await tcs.Task.WaitAsync(cancellationToken);
    }

    private async Task SendAsync(SftpPacket packet, CancellationToken cancellationToken)
    {
        var frame = packet.ToFrame();
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            await _channel.WriteAsync(frame, cancellationToken);
            await _channel.FlushAsync(cancellationToken);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task ReadLoopAsync(CancellationToken ct)
    {
        var reader = PipeReader.Create(_channel, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024, leaveOpen: true));
        Exception terminal = new SftpProtocolException(SftpProtocolError.ConnectionClosed, "SFTP channel closed");
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(ct);
                var buffer = result.Buffer;
                try
                {
                    while (SftpFrameReader.TryReadFrame(ref buffer, _options.MaxPacketLength, out var payload))
                    {
                        Dispatch(SftpPacketCodec.Decode(payload));
                    }
                }
                finally
                {
                    reader.AdvanceTo(buffer.Start, buffer.End);
                }

                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            terminal = new ObjectDisposedException(nameof(SftpClient));
        }
        catch (Exception e) when (e is SftpProtocolException or IOException or ObjectDisposedException)
        {
            terminal = e;
        }
        finally
        {
            await reader.CompleteAsync();
        }

        _terminal = terminal;
        _version.TrySetException(terminal);
        foreach (var id in _pending.Keys)
        {
            if (_pending.TryRemove(id, out var tcs))
            {
                tcs.TrySetException(terminal);
            }
        }
    }

    private void Dispatch(SftpPacket packet)
    {
        if (packet is VersionPacket version)
        {
            if (!_version.TrySetResult(version))
            {
                throw new SftpProtocolException(SftpProtocolError.UnexpectedPacket, "second SSH_FXP_VERSION");
            }

            return;
        }

        if (packet is not (StatusPacket or HandlePacket or DataPacket or NamePacket or AttrsPacket or ExtendedReplyPacket))
        {
            throw new SftpProtocolException(SftpProtocolError.UnexpectedPacket, $"server sent request packet type {packet.Type}");
        }

        var id = ((SftpRequest)packet).RequestId;
        if (!_pending.TryRemove(id, out var tcs))
        {
            throw new SftpProtocolException(SftpProtocolError.UnexpectedPacket, $"response to unknown request id {id}");
        }

        tcs.TrySetResult(packet);
    }

    private static T Expect<T>(SftpPacket packet)
        where T : SftpPacket
    {
        return packet switch
        {
            T wanted => wanted,
            StatusPacket status when status.Code != SftpStatusCode.Ok => throw new SftpStatusException(status.Status),
            _ => throw new SftpProtocolException(SftpProtocolError.UnexpectedPacket, $"expected {typeof(T).Name}, got packet type {packet.Type}"),
        };
    }

    private static void ExpectOk(SftpPacket packet)
    {
        var status = Expect<StatusPacket>(packet);
        if (status.Code != SftpStatusCode.Ok)
        {
            throw new SftpStatusException(status.Status);
        }
    }

    /// <summary>DATA → bytes; STATUS EOF → null; anything else throws.</summary>
    private static ReadOnlyMemory<byte>? ReadData(SftpPacket packet)
    {
        // Spelled out: `cond ? null : memory` would turn null into an empty (non-null) memory via T[].
        if (packet is StatusPacket { Code: SftpStatusCode.Eof })
        {
            return null;
        }

        return Expect<DataPacket>(packet).Data;
    }

    private static string SingleName(SftpPacket packet)
    {
        var entries = Expect<NamePacket>(packet).Entries;
        return entries.Count == 1
            ? entries[0].FileName
            : throw new SftpProtocolException(SftpProtocolError.UnexpectedPacket, $"expected one name, got {entries.Count}");
    }

    private static async Task DrainQuietlyAsync(Queue<Task<SftpPacket>> outstanding)
    {
        while (outstanding.Count > 0)
        {
            try
            {
                await outstanding.Dequeue();
            }
#pragma warning disable CA1031 // Already failing; the first error is the one the caller sees.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }

    private async Task CloseQuietlyAsync(SftpFileHandle handle)
    {
        try
        {
            await RequestAsync(id => new ClosePacket(id, handle.Value), CancellationToken.None);
        }
#pragma warning disable CA1031 // Already failing; the first error is the one the caller sees.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }
}
