using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Onboarding.Sftp.Packets;
using Onboarding.Sftp.Wire;

namespace Onboarding.Sftp.Server;

/// <summary>
/// One server session: a read loop that frames and decodes requests and starts each one (bounded
/// by <see cref="SftpServerOptions.MaxInFlightRequests"/>, ordered by <see cref="RequestOrdering"/>),
/// and a write loop that sends responses as they complete. Responses carry the request id, so
/// their order on the wire does not matter (draft-ietf-secsh-filexfer-02 §6.1).
/// </summary>
internal sealed class SftpServerSession : IDisposable
{
    private const uint ProtocolVersion = 3;

    private readonly Stream _channel;
    private readonly ISftpHandler _handler;
    private readonly SftpServerOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _inFlight;
    private readonly Channel<Response> _responses = Channel.CreateUnbounded<Response>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<uint, OpenHandle> _handles = new();
    private readonly RequestOrdering _ordering = new();

    /// <summary>
    /// Per handle, the reply of its latest WRITE (read loop only). Writes to one handle may run in parallel (§6.1), but
    /// their replies leave in request order: OpenSSH's sftp client (9.2 here) truncates an in-place upload, as
    /// <c>scp -s</c> makes, at the last offset it saw acknowledged in order when the acks come back reordered
    /// ("server reordered ACKs", then "truncating at …"), and still exits 0. A CLOSE, FSTAT, FSETSTAT or READDIR of the
    /// handle answers after those replies too.
    /// </summary>
    private readonly Dictionary<uint, Task> _lastWriteReply = new();
    private int _nextHandle;

    public SftpServerSession(Stream channel, ISftpHandler handler, SftpServerOptions options, ILogger logger)
    {
        _channel = channel;
        _handler = handler;
        _options = options;
        _logger = logger;
        _inFlight = new SemaphoreSlim(options.MaxInFlightRequests, options.MaxInFlightRequests);
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var writer = WriteLoopAsync(cts.Token);
        var reader = PipeReader.Create(_channel, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024, leaveOpen: true));
        try
        {
            await ReadLoopAsync(reader, cts.Token);
        }
        finally
        {
            // Let started requests finish (their responses may still reach a half-closed peer).
            for (var i = 0; i < _options.MaxInFlightRequests; i++)
            {
                await _inFlight.WaitAsync(CancellationToken.None);
            }

            _responses.Writer.TryComplete();
            await writer;
            await reader.CompleteAsync();
            await AbortOpenHandlesAsync();
        }
    }

    public void Dispose() => _inFlight.Dispose();

    private async Task ReadLoopAsync(PipeReader reader, CancellationToken ct)
    {
        var initialised = false;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await reader.ReadAsync(ct);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                _logger.LogInformation(e, "SFTP channel read failed; ending session");
                return;
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var buffer = result.Buffer;
            try
            {
                while (SftpFrameReader.TryReadFrame(ref buffer, _options.MaxPacketLength, out var payload))
                {
                    SftpPacket packet;
                    try
                    {
                        packet = SftpPacketCodec.Decode(payload);
                    }
                    catch (SftpProtocolException e) when (initialised && e.RequestId is { } id)
                    {
                        // §7: a request we cannot parse is answered, not fatal, when its id is known.
                        _logger.LogWarning("SFTP request {RequestId} malformed: {Reason}", id, e.Message);
                        var code = e.Error == SftpProtocolError.UnknownPacketType ? SftpStatusCode.OpUnsupported : SftpStatusCode.BadMessage;
                        await _inFlight.WaitAsync(ct);
                        Send(new StatusPacket(id, code, e.Message), holdsSlot: true);
                        continue;
                    }

                    if (!initialised)
                    {
                        // §4: the first packet is INIT; we answer with version 3 and our extensions.
                        if (packet is not InitPacket init)
                        {
                            throw new SftpProtocolException(SftpProtocolError.UnexpectedPacket, $"expected SSH_FXP_INIT, got type {packet.Type}");
                        }

                        if (init.Version < ProtocolVersion)
                        {
                            throw new SftpProtocolException(SftpProtocolError.UnsupportedVersion, $"client speaks SFTP version {init.Version}; only 3 is supported");
                        }

                        Send(new VersionPacket(ProtocolVersion, OpenSshExtensions.Advertised), holdsSlot: false);
                        initialised = true;
                        continue;
                    }

                    if (packet is not SftpRequest request || packet is InitPacket or VersionPacket or StatusPacket or HandlePacket or DataPacket or NamePacket or AttrsPacket or ExtendedReplyPacket)
                    {
                        var id = (packet as SftpRequest)?.RequestId ?? 0;
                        await _inFlight.WaitAsync(ct);
                        Send(new StatusPacket(id, SftpStatusCode.BadMessage, $"packet type {packet.Type} is not a request"), holdsSlot: true);
                        continue;
                    }

                    await _inFlight.WaitAsync(ct);
                    Start(request, ct);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            finally
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
            }

            if (result.IsCompleted)
            {
                if (buffer.Length > 0)
                {
                    _logger.LogInformation("SFTP channel closed in the middle of a packet");
                }

                return;
            }
        }
    }

    private void Start(SftpRequest request, CancellationToken ct)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var prerequisite = Admit(request, done.Task);
        Task? replyAfter = null;
        TaskCompletionSource? replied = null;
        if (request is WritePacket write)
        {
            var key = HandleKey(write.Handle);
            replyAfter = _lastWriteReply.GetValueOrDefault(key);
            replied = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _lastWriteReply[key] = replied.Task;
        }
        else if (HandleOf(request) is { } handle && _lastWriteReply.Remove(HandleKey(handle), out var last))
        {
            replyAfter = last;
        }

        _ = RunRequestAsync(request, prerequisite, done, replyAfter, replied, ct);
    }

    /// <summary>The handle a CLOSE, FSTAT, FSETSTAT or READDIR names, or null.</summary>
    private static byte[]? HandleOf(SftpRequest request) => request switch
    {
        SftpHandleRequest h => h.Handle,
        FSetStatPacket f => f.Handle,
        _ => null,
    };

    private Task Admit(SftpRequest request, Task done) => request switch
    {
        ReadPacket r => _ordering.Admit(done, RequestOrdering.Scope.Range, HandleKey(r.Handle), r.Offset, r.Length, writes: false, path: HandlePath(r.Handle)),
        WritePacket w => _ordering.Admit(done, RequestOrdering.Scope.Range, HandleKey(w.Handle), w.Offset, (ulong)w.Data.Length, writes: true, path: HandlePath(w.Handle)),
        SftpHandleRequest h => _ordering.Admit(done, RequestOrdering.Scope.Handle, HandleKey(h.Handle), path: HandlePath(h.Handle)),
        FSetStatPacket f => _ordering.Admit(done, RequestOrdering.Scope.Handle, HandleKey(f.Handle), path: HandlePath(f.Handle)),
        // §6: only requests touching the same file need ordering, so OPEN waits for those, not for unrelated CLOSEs.
        OpenPacket o => _ordering.Admit(done, RequestOrdering.Scope.File, path: o.Path),
        ExtendedPacket { Request: OpenSshExtensions.Fsync or OpenSshExtensions.FStatVfs } e => AdmitHandleExtension(e, done),
        _ => _ordering.Admit(done, RequestOrdering.Scope.Everything),
    };

    private Task AdmitHandleExtension(ExtendedPacket e, Task done)
    {
        try
        {
            var handle = OpenSshExtensions.ReadSingleString(e.Data.Span, e.RequestId);
            return _ordering.Admit(done, RequestOrdering.Scope.Handle, HandleKey(handle), path: HandlePath(handle));
        }
        catch (SftpProtocolException)
        {
            return _ordering.Admit(done, RequestOrdering.Scope.Everything);
        }
    }

    /// <summary>Our handles are 4-byte counters; anything else maps to 0, which is never issued.</summary>
    private static uint HandleKey(byte[] handle) => handle.Length == 4 ? BinaryPrimitives.ReadUInt32BigEndian(handle) : 0;

    /// <summary>The path a live handle was opened on (null if unknown), so an OPEN of that file is ordered after it.</summary>
    private string? HandlePath(byte[] handle) => _handles.TryGetValue(HandleKey(handle), out var h) ? h.Path : null;

    private async Task RunRequestAsync(SftpRequest request, Task prerequisite, TaskCompletionSource done, Task? replyAfter,
        TaskCompletionSource? replied, CancellationToken ct)
    {
        try
        {
            await prerequisite;
            SftpPacket response;
            try
            {
                response = await ExecuteAsync(request, ct);
            }
            catch (SftpProtocolException e)
            {
                response = new StatusPacket(request.RequestId, SftpStatusCode.BadMessage, e.Message);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                response = new StatusPacket(request.RequestId, SftpStatusCode.ConnectionLost, "Session ending");
            }
#pragma warning disable CA1031 // A handler bug must fail one request, not the session (ISftpHandler contract).
            catch (Exception e)
#pragma warning restore CA1031
            {
                _logger.LogError(e, "SFTP handler failed on request {RequestId} ({Type})", request.RequestId, request.GetType().Name);
                response = new StatusPacket(request.RequestId, SftpStatusCode.Failure, "Failure");
            }

            (request as WritePacket)?.ReturnPooledBuffer();
            done.TrySetResult();
            if (replyAfter is not null)
                await replyAfter;
            Send(response, holdsSlot: true);
            replied?.TrySetResult();
        }
        catch
        {
            // Only reachable if building the response frame itself failed; never leak the slot.
            done.TrySetResult();
            replied?.TrySetResult();
            _inFlight.Release();
            throw;
        }
    }

    /// <summary>
    /// Queues a response. A request's in-flight slot is released only once its response has been
    /// written, so a client that stops reading cannot make us buffer responses without bound.
    /// </summary>
    private void Send(SftpPacket packet, bool holdsSlot)
    {
        var pooled = (packet as DataPacket)?.PooledFrame;
        if (!_responses.Writer.TryWrite(new Response(packet.ToFrame(), holdsSlot, pooled)))
        {
            if (holdsSlot)
            {
                _inFlight.Release();
            }

            if (pooled is not null)
            {
                ArrayPool<byte>.Shared.Return(pooled);
            }
        }
    }

    private readonly record struct Response(ReadOnlyMemory<byte> Frame, bool HoldsSlot, byte[]? PooledFrame);

    private async Task WriteLoopAsync(CancellationToken ct)
    {
        var broken = false;
        var reader = _responses.Reader;
        // Not ct: after cancellation we still drain, so every held in-flight slot is released.
        while (await reader.WaitToReadAsync(CancellationToken.None))
        {
            // Write everything queued, then flush once: pipelined responses share a flush.
            var written = 0;
            while (reader.TryRead(out var response))
            {
                if (response.HoldsSlot)
                {
                    written++;
                }

                try
                {
                    if (!broken)
                    {
                        await _channel.WriteAsync(response.Frame, ct);
                    }
                }
                catch (Exception e) when (e is IOException or ObjectDisposedException or NotSupportedException or OperationCanceledException)
                {
                    // The peer is gone; keep draining so request tasks never block on us.
                    _logger.LogInformation(e, "SFTP channel write failed");
                    broken = true;
                }
                finally
                {
                    // Stream.WriteAsync has consumed the bytes once it completes; the frame can be reused.
                    if (response.PooledFrame is { } pooled)
                    {
                        ArrayPool<byte>.Shared.Return(pooled);
                    }
                }
            }

            if (!broken)
            {
                try
                {
                    await _channel.FlushAsync(ct);
                }
                catch (Exception e) when (e is IOException or ObjectDisposedException or NotSupportedException or OperationCanceledException)
                {
                    _logger.LogInformation(e, "SFTP channel flush failed");
                    broken = true;
                }
            }

            if (written > 0)
            {
                _inFlight.Release(written);
            }
        }
    }

    private async ValueTask<SftpPacket> ExecuteAsync(SftpRequest request, CancellationToken ct)
    {
        var id = request.RequestId;
        switch (request)
        {
            case OpenPacket open:
                {
                    if (_handles.Count >= _options.MaxOpenHandles)
                    {
                        return new StatusPacket(id, SftpStatusCode.Failure, "Too many open handles");
                    }

                    var result = await _handler.OpenFileAsync(open.Path, open.Flags, open.Attributes, ct);
                    return result.IsOk ? new HandlePacket(id, Register(result.Value, directory: false, open.Path)) : Status(id, result.Status);
                }

            case OpenDirPacket openDir:
                {
                    if (_handles.Count >= _options.MaxOpenHandles)
                    {
                        return new StatusPacket(id, SftpStatusCode.Failure, "Too many open handles");
                    }

                    var result = await _handler.OpenDirectoryAsync(openDir.Path, ct);
                    return result.IsOk ? new HandlePacket(id, Register(result.Value, directory: true, openDir.Path)) : Status(id, result.Status);
                }

            case ClosePacket close:
                {
                    if (!_handles.TryRemove(HandleKey(close.Handle), out var h))
                    {
                        return InvalidHandle(id);
                    }

                    return Status(id, await _handler.CloseAsync(h.Value, ct));
                }

            case ReadPacket read:
                {
                    if (!TryGetHandle(read.Handle, directory: false, out var h))
                    {
                        return InvalidHandle(id);
                    }

                    // §6.4: the server may return fewer bytes than asked for; we cap at MaxReadLength.
                    // The handler reads straight into the pooled frame that will carry the DATA packet.
                    var length = (int)Math.Min(read.Length, (uint)_options.MaxReadLength);
                    var frame = ArrayPool<byte>.Shared.Rent(DataPacket.FrameHeaderLength + length);
                    var result = await _handler.ReadAtAsync(h.Value, read.Offset, frame.AsMemory(DataPacket.FrameHeaderLength, length), ct);
                    if (!result.IsOk || result.Value <= 0)
                    {
                        ArrayPool<byte>.Shared.Return(frame);
                        return result.IsOk ? new StatusPacket(id, SftpStatusCode.Eof, "End of file") : Status(id, result.Status);
                    }

                    return DataPacket.FromPooledFrame(id, frame, Math.Min(result.Value, length));
                }

            case WritePacket write:
                {
                    if (!TryGetHandle(write.Handle, directory: false, out var h))
                    {
                        return InvalidHandle(id);
                    }

                    return Status(id, await _handler.WriteAtAsync(h.Value, write.Offset, write.Data, ct));
                }

            case ReadDirPacket readDir:
                {
                    if (!TryGetHandle(readDir.Handle, directory: true, out var h))
                    {
                        return InvalidHandle(id);
                    }

                    return await ReadDirectoryAsync(id, h, ct);
                }

            case StatPacket stat:
                return Attrs(id, await _handler.StatAsync(stat.Path, ct));

            case LStatPacket lstat:
                return Attrs(id, await _handler.LStatAsync(lstat.Path, ct));

            case FStatPacket fstat:
                return TryGetHandle(fstat.Handle, directory: null, out var fh) ? Attrs(id, await _handler.FStatAsync(fh.Value, ct)) : InvalidHandle(id);

            case SetStatPacket setStat:
                return Status(id, await _handler.SetStatAsync(setStat.Path, setStat.Attributes, ct));

            case FSetStatPacket fsetStat:
                return TryGetHandle(fsetStat.Handle, directory: null, out var fsh) ? Status(id, await _handler.FSetStatAsync(fsh.Value, fsetStat.Attributes, ct)) : InvalidHandle(id);

            case RemovePacket remove:
                return Status(id, await _handler.RemoveAsync(remove.Path, ct));

            case RenamePacket rename:
                return Status(id, await _handler.RenameAsync(rename.OldPath, rename.NewPath, overwrite: false, ct));

            case MkDirPacket mkdir:
                return Status(id, await _handler.MakeDirectoryAsync(mkdir.Path, mkdir.Attributes, ct));

            case RmDirPacket rmdir:
                return Status(id, await _handler.RemoveDirectoryAsync(rmdir.Path, ct));

            case RealPathPacket realPath:
                return SingleName(id, await _handler.RealPathAsync(realPath.Path, ct));

            case ReadLinkPacket readLink:
                return SingleName(id, await _handler.ReadLinkAsync(readLink.Path, ct));

            case SymlinkPacket symlink:
                return Status(id, await _handler.SymlinkAsync(symlink.LinkPath, symlink.TargetPath, ct));

            case ExtendedPacket extended:
                return await ExecuteExtendedAsync(extended, ct);

            default:
                return new StatusPacket(id, SftpStatusCode.OpUnsupported, "Operation unsupported");
        }
    }

    private async ValueTask<SftpPacket> ExecuteExtendedAsync(ExtendedPacket e, CancellationToken ct)
    {
        var id = e.RequestId;
        switch (e.Request)
        {
            case OpenSshExtensions.Limits:
                {
                    var limits = new SftpLimits((ulong)_options.MaxPacketLength, (ulong)_options.MaxReadLength, (ulong)_options.MaxWriteLength, (ulong)_options.MaxOpenHandles);
                    return new ExtendedReplyPacket(id, OpenSshExtensions.WriteLimits(limits));
                }

            case OpenSshExtensions.PosixRename:
                {
                    var (oldPath, newPath) = OpenSshExtensions.ReadPosixRename(e.Data.Span, id);
                    return Status(id, await _handler.RenameAsync(oldPath, newPath, overwrite: true, ct));
                }

            case OpenSshExtensions.Fsync:
                {
                    var handle = OpenSshExtensions.ReadSingleString(e.Data.Span, id);
                    return TryGetHandle(handle, directory: false, out var h) ? Status(id, await _handler.FsyncAsync(h.Value, ct)) : InvalidHandle(id);
                }

            case OpenSshExtensions.StatVfs:
                {
                    var path = DecodePath(OpenSshExtensions.ReadSingleString(e.Data.Span, id), id);
                    var result = await _handler.StatVfsAsync(path, ct);
                    return result.IsOk ? new ExtendedReplyPacket(id, OpenSshExtensions.WriteStatVfs(result.Value)) : Status(id, result.Status);
                }

            default:
                // §8: unknown extended requests get SSH_FX_OP_UNSUPPORTED.
                return new StatusPacket(id, SftpStatusCode.OpUnsupported, $"Unsupported extension {e.Request}");
        }
    }

    private static string DecodePath(byte[] bytes, uint id)
    {
        try
        {
            return new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new SftpProtocolException(SftpProtocolError.InvalidUtf8, "path is not valid UTF-8", id);
        }
    }

    private async ValueTask<SftpPacket> ReadDirectoryAsync(uint id, OpenHandle h, CancellationToken ct)
    {
        if (h.PendingEntries.Count == 0)
        {
            var result = await _handler.ReadDirectoryAsync(h.Value, ct);
            if (!result.IsOk)
            {
                return Status(id, result.Status);
            }

            foreach (var entry in result.Value)
            {
                h.PendingEntries.Enqueue(entry);
            }

            if (h.PendingEntries.Count == 0)
            {
                return new StatusPacket(id, SftpStatusCode.Eof, "End of file");
            }
        }

        // Keep each NAME packet within what OpenSSH's client accepts (256 KiB); the rest waits for the next READDIR.
        var budget = Math.Min(_options.MaxPacketLength, 256 * 1024) - 1024;
        var batch = new List<SftpFileEntry>();
        while (h.PendingEntries.TryPeek(out var next))
        {
            var size = EstimateSize(next);
            if (batch.Count > 0 && size > budget)
            {
                break;
            }

            budget -= size;
            batch.Add(h.PendingEntries.Dequeue());
        }

        return new NamePacket(id, batch);
    }

    private static int EstimateSize(SftpFileEntry e) =>
        8 + Encoding.UTF8.GetByteCount(e.FileName) + Encoding.UTF8.GetByteCount(e.LongName) + 40
        + e.Attributes.Extended.Sum(x => 8 + Encoding.UTF8.GetByteCount(x.Type) + x.Data.Length);

    private byte[] Register(object value, bool directory, string path)
    {
        if (value is null)
        {
            throw new InvalidOperationException("The handler returned success without a handle object.");
        }

        var key = (uint)Interlocked.Increment(ref _nextHandle);
        _handles[key] = new OpenHandle(value, directory, path);
        var wire = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(wire, key);
        return wire;
    }

    private bool TryGetHandle(byte[] wire, bool? directory, out OpenHandle handle)
    {
        if (_handles.TryGetValue(HandleKey(wire), out var h) && (directory is null || h.IsDirectory == directory))
        {
            handle = h;
            return true;
        }

        handle = null!;
        return false;
    }

    private async Task AbortOpenHandlesAsync()
    {
        foreach (var key in _handles.Keys.ToList())
        {
            if (!_handles.TryRemove(key, out var h))
            {
                continue;
            }

            try
            {
                await _handler.AbortAsync(h.Value);
            }
#pragma warning disable CA1031 // One failing abort must not stop the others.
            catch (Exception e)
#pragma warning restore CA1031
            {
                _logger.LogError(e, "SFTP handler failed to abort an open handle");
            }
        }
    }

    private static StatusPacket InvalidHandle(uint id) => new(id, SftpStatusCode.Failure, "Invalid handle");

    private static StatusPacket Status(uint id, SftpStatus status) => new(id, status.Code, status.Message ?? string.Empty);

    private static SftpPacket Attrs(uint id, SftpResult<SftpAttributes> result) =>
        result.IsOk ? new AttrsPacket(id, result.Value) : Status(id, result.Status);

    /// <summary>§7: REALPATH and READLINK answer with a NAME of one entry; like OpenSSH, longname = name and no attributes.</summary>
    private static SftpPacket SingleName(uint id, SftpResult<string> result) =>
        result.IsOk ? new NamePacket(id, [new SftpFileEntry(result.Value, result.Value, SftpAttributes.Empty)]) : Status(id, result.Status);

    private sealed class OpenHandle(object value, bool isDirectory, string path)
    {
        public object Value { get; } = value;

        public bool IsDirectory { get; } = isDirectory;

        public string Path { get; } = path;

        public Queue<SftpFileEntry> PendingEntries { get; } = new();
    }
}
