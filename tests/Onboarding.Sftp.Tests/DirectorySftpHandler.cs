using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Win32.SafeHandles;

namespace Onboarding.Sftp.Tests;

/// <summary>
/// Test handler: serves one directory as "/". Paths are resolved lexically; a path that would
/// leave the root through "..", or that passes through a symbolic link, is refused. Long names
/// are formatted the way OpenSSH's sftp-server formats them (ls_file in sftp-common.c), so a
/// listing through our server can be compared with one through OpenSSH.
/// Linux x86-64 only (it reads struct stat through libc), which is all the interop tests need.
/// </summary>
internal sealed class DirectorySftpHandler : ISftpHandler
{
    private readonly string _root;

    public DirectorySftpHandler(string root) => _root = Path.GetFullPath(root).TrimEnd('/');

    /// <summary>Called on CLOSE of a file opened for writing; a non-OK status is the client's verdict.</summary>
    public Func<string, SftpStatus>? Commit { get; init; }

    /// <summary>Virtual paths whose handles were aborted because the session ended.</summary>
    public ConcurrentQueue<string> Aborted { get; } = new();

    /// <summary>Every WRITE offset in the order the handler saw it.</summary>
    public ConcurrentQueue<ulong> WriteOffsets { get; } = new();

    /// <summary>When set, StatAsync on this virtual path throws, to test that a handler bug fails only its request.</summary>
    public string? ThrowOnStat { get; init; }

    /// <summary>Delay before each write, so tests can make requests overlap.</summary>
    public TimeSpan WriteDelay { get; init; }

    /// <summary>Extra delay of the write at <see cref="SlowWriteOffset"/> only, so later writes of the same upload finish before it.</summary>
    public TimeSpan SlowWriteDelay { get; init; }

    public ulong SlowWriteOffset { get; init; }

    /// <summary>WRITEs at or beyond this offset fail with SSH_FX_FAILURE "disk full".</summary>
    public ulong FailWritesFrom { get; init; } = ulong.MaxValue;

    /// <summary>The most WriteAtAsync calls seen running at once.</summary>
    public int MaxConcurrentWrites => _maxConcurrentWrites;

    private int _concurrentWrites;
    private int _maxConcurrentWrites;

    /// <summary>Caps the bytes one READ returns, to exercise clients' handling of short reads (§6.4).</summary>
    public int MaxReadPerCall { get; init; } = int.MaxValue;

    public ValueTask<SftpResult<object>> OpenFileAsync(string path, SftpOpenFlags flags, SftpAttributes attributes, CancellationToken cancellationToken)
    {
        return Guard<object>(() =>
        {
            if (!TryResolve(path, out var full, out var error))
            {
                return error;
            }

            var access = (flags & (SftpOpenFlags.Read | SftpOpenFlags.Write)) switch
            {
                SftpOpenFlags.Read => FileAccess.Read,
                SftpOpenFlags.Write => FileAccess.Write,
                SftpOpenFlags.Read | SftpOpenFlags.Write => FileAccess.ReadWrite,
                _ => (FileAccess)0,
            };
            if (access == 0)
            {
                return SftpStatus.BadMessage("open needs READ or WRITE");
            }

            var mode = (flags & SftpOpenFlags.Create) != 0
                ? (flags & SftpOpenFlags.Exclusive) != 0 ? FileMode.CreateNew : (flags & SftpOpenFlags.Truncate) != 0 ? FileMode.Create : FileMode.OpenOrCreate
                : (flags & SftpOpenFlags.Truncate) != 0 ? FileMode.Truncate : FileMode.Open;
            if (Directory.Exists(full))
            {
                return SftpStatus.Failure("Is a directory");
            }

            var existed = File.Exists(full);
            var handle = File.OpenHandle(full, mode, access, FileShare.ReadWrite | FileShare.Delete);
            if (!existed && attributes.Permissions is { } perms)
            {
                File.SetUnixFileMode(handle, (UnixFileMode)(perms & 0xFFF));
            }

            return new FileHandle(path, full, handle, access.HasFlag(FileAccess.Write));
        });
    }

    public async ValueTask<SftpStatus> WriteAtAsync(object handle, ulong offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var file = (FileHandle)handle;
        WriteOffsets.Enqueue(offset);
        var now = Interlocked.Increment(ref _concurrentWrites);
        try
        {
            int seen;
            while (now > (seen = Volatile.Read(ref _maxConcurrentWrites)) && Interlocked.CompareExchange(ref _maxConcurrentWrites, now, seen) != seen)
            {
            }

            if (WriteDelay > TimeSpan.Zero)
            {
                await Task.Delay(WriteDelay, cancellationToken);
            }

            if (offset == SlowWriteOffset && SlowWriteDelay > TimeSpan.Zero)
            {
                await Task.Delay(SlowWriteDelay, cancellationToken);
            }

            if (offset >= FailWritesFrom)
            {
                return SftpStatus.Failure("disk full");
            }

            if (offset > long.MaxValue)
            {
                return SftpStatus.Failure("offset too large");
            }

            await RandomAccess.WriteAsync(file.Handle, data, (long)offset, cancellationToken);
            return SftpStatus.Ok;
        }
        finally
        {
            Interlocked.Decrement(ref _concurrentWrites);
        }
    }

    public async ValueTask<SftpResult<int>> ReadAtAsync(object handle, ulong offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var file = (FileHandle)handle;
        if (offset > long.MaxValue)
        {
            return 0;
        }

        return await RandomAccess.ReadAsync(file.Handle, buffer[..Math.Min(buffer.Length, MaxReadPerCall)], (long)offset, cancellationToken);
    }

    public ValueTask<SftpStatus> CloseAsync(object handle, CancellationToken cancellationToken)
    {
        if (handle is FileHandle file)
        {
            file.Handle.Dispose();
            if (file.Writable && Commit is { } commit)
            {
                return ValueTask.FromResult(commit(file.VirtualPath));
            }
        }

        return ValueTask.FromResult(SftpStatus.Ok);
    }

    public ValueTask AbortAsync(object handle)
    {
        if (handle is FileHandle file)
        {
            file.Handle.Dispose();
            Aborted.Enqueue(file.VirtualPath);
        }
        else if (handle is DirectoryHandle dir)
        {
            Aborted.Enqueue(dir.VirtualPath);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<SftpResult<object>> OpenDirectoryAsync(string path, CancellationToken cancellationToken)
    {
        return Guard<object>(() =>
        {
            if (!TryResolve(path, out var full, out var error))
            {
                return error;
            }

            if (!Directory.Exists(full))
            {
                return File.Exists(full) ? SftpStatus.Failure("Not a directory") : SftpStatus.NoSuchFile();
            }

            return new DirectoryHandle(path, full);
        });
    }

    public ValueTask<SftpResult<IReadOnlyList<SftpFileEntry>>> ReadDirectoryAsync(object handle, CancellationToken cancellationToken)
    {
        return Guard<IReadOnlyList<SftpFileEntry>>(() =>
        {
            var dir = (DirectoryHandle)handle;
            if (dir.Remaining is null)
            {
                // Like readdir(3), "." and ".." come first.
                var names = new List<string> { ".", ".." };
                names.AddRange(Directory.EnumerateFileSystemEntries(dir.FullPath).Select(Path.GetFileName)!);
                dir.Remaining = new Queue<string>(names);
            }

            // OpenSSH's sftp-server sends at most 100 names per READDIR.
            var batch = new List<SftpFileEntry>();
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            while (batch.Count < 100 && dir.Remaining.TryDequeue(out var name))
            {
                // As in a chroot, ".." of the root is the root: nothing about the parent leaks.
                var full = name == ".." && dir.FullPath == _root ? _root : Path.Combine(dir.FullPath, name);
                if (!NativeStat.TryLStat(full, out var st))
                {
                    continue;
                }

                batch.Add(new SftpFileEntry(name, LongName(name, st, now), st.ToAttributes()));
            }

            return batch;
        });
    }

    public ValueTask<SftpResult<SftpAttributes>> StatAsync(string path, CancellationToken cancellationToken)
    {
        if (path == ThrowOnStat)
        {
            throw new InvalidOperationException("handler bug on purpose");
        }

        return LStatAsync(path, cancellationToken);
    }

    public ValueTask<SftpResult<SftpAttributes>> LStatAsync(string path, CancellationToken cancellationToken)
    {
        return Guard<SftpAttributes>(() =>
        {
            if (!TryResolve(path, out var full, out var error))
            {
                return error.Status;
            }

            return NativeStat.TryLStat(full, out var st) ? st.ToAttributes() : SftpStatus.NoSuchFile();
        });
    }

    public ValueTask<SftpResult<SftpAttributes>> FStatAsync(object handle, CancellationToken cancellationToken)
    {
        var full = handle switch
        {
            FileHandle f => f.FullPath,
            DirectoryHandle d => d.FullPath,
            _ => throw new ArgumentException("unknown handle", nameof(handle)),
        };
        return ValueTask.FromResult<SftpResult<SftpAttributes>>(NativeStat.TryLStat(full, out var st) ? st.ToAttributes() : SftpStatus.NoSuchFile());
    }

    public ValueTask<SftpStatus> SetStatAsync(string path, SftpAttributes attributes, CancellationToken cancellationToken)
    {
        return GuardStatus(() => TryResolve(path, out var full, out var error) ? Apply(full, null, attributes) : error.Status);
    }

    public ValueTask<SftpStatus> FSetStatAsync(object handle, SftpAttributes attributes, CancellationToken cancellationToken)
    {
        return GuardStatus(() => handle is FileHandle f ? Apply(f.FullPath, f.Handle, attributes) : SftpStatus.Failure("not a file handle"));
    }

    public ValueTask<SftpStatus> RemoveAsync(string path, CancellationToken cancellationToken)
    {
        return GuardStatus(() =>
        {
            if (!TryResolve(path, out var full, out var error))
            {
                return error.Status;
            }

            if (Directory.Exists(full))
            {
                return SftpStatus.Failure("Is a directory");
            }

            if (!File.Exists(full))
            {
                return SftpStatus.NoSuchFile();
            }

            File.Delete(full);
            return SftpStatus.Ok;
        });
    }

    public ValueTask<SftpStatus> RenameAsync(string oldPath, string newPath, bool overwrite, CancellationToken cancellationToken)
    {
        return GuardStatus(() =>
        {
            if (!TryResolve(oldPath, out var from, out var error) || !TryResolve(newPath, out var to, out error))
            {
                return error.Status;
            }

            if (Directory.Exists(from))
            {
                if (Path.Exists(to))
                {
                    return SftpStatus.Failure();
                }

                Directory.Move(from, to);
                return SftpStatus.Ok;
            }

            if (!File.Exists(from))
            {
                return SftpStatus.NoSuchFile();
            }

            // §6.5: plain RENAME fails when the target exists; posix-rename replaces it.
            if (!overwrite && Path.Exists(to))
            {
                return SftpStatus.Failure();
            }

            File.Move(from, to, overwrite);
            return SftpStatus.Ok;
        });
    }

    public ValueTask<SftpStatus> MakeDirectoryAsync(string path, SftpAttributes attributes, CancellationToken cancellationToken)
    {
        return GuardStatus(() =>
        {
            if (!TryResolve(path, out var full, out var error))
            {
                return error.Status;
            }

            if (Path.Exists(full))
            {
                return SftpStatus.Failure();
            }

            if (attributes.Permissions is { } perms)
            {
                Directory.CreateDirectory(full, (UnixFileMode)(perms & 0xFFF));
            }
            else
            {
                Directory.CreateDirectory(full);
            }

            return SftpStatus.Ok;
        });
    }

    public ValueTask<SftpStatus> RemoveDirectoryAsync(string path, CancellationToken cancellationToken)
    {
        return GuardStatus(() =>
        {
            if (!TryResolve(path, out var full, out var error))
            {
                return error.Status;
            }

            if (!Directory.Exists(full))
            {
                return SftpStatus.NoSuchFile();
            }

            if (full == _root)
            {
                return SftpStatus.PermissionDenied();
            }

            Directory.Delete(full, recursive: false);
            return SftpStatus.Ok;
        });
    }

    public ValueTask<SftpResult<string>> RealPathAsync(string path, CancellationToken cancellationToken)
    {
        var normal = Normalize(path);
        return ValueTask.FromResult<SftpResult<string>>(normal is null ? SftpStatus.PermissionDenied() : normal);
    }

    public ValueTask<SftpResult<SftpStatVfs>> StatVfsAsync(string path, CancellationToken cancellationToken)
    {
        var drive = new DriveInfo(_root);
        const ulong block = 4096;
        return ValueTask.FromResult<SftpResult<SftpStatVfs>>(new SftpStatVfs(
            block, block, (ulong)drive.TotalSize / block, (ulong)drive.TotalFreeSpace / block, (ulong)drive.AvailableFreeSpace / block,
            0, 0, 0, 0, 0, 255));
    }

    // ---- paths ----

    /// <summary>Lexical normalisation against the virtual root "/"; null when ".." would climb above it.</summary>
    internal static string? Normalize(string path)
    {
        var parts = new List<string>();
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                if (parts.Count == 0)
                {
                    return null;
                }

                parts.RemoveAt(parts.Count - 1);
                continue;
            }

            parts.Add(part);
        }

        return "/" + string.Join('/', parts);
    }

    private bool TryResolve(string path, out string full, out SftpResult<object> error)
    {
        full = string.Empty;
        error = default;
        var normal = Normalize(path);
        if (normal is null || path.Contains('\0', StringComparison.Ordinal))
        {
            error = SftpStatus.PermissionDenied("path escapes the root");
            return false;
        }

        // Refuse symbolic links anywhere on the way: they could point outside the root.
        var current = _root;
        foreach (var part in normal.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            current = current + "/" + part;
            if (NativeStat.TryLStat(current, out var st) && st.IsSymbolicLink)
            {
                error = SftpStatus.PermissionDenied("symbolic links are not served");
                return false;
            }
        }

        full = normal == "/" ? _root : _root + normal;
        return true;
    }

    private static SftpStatus Apply(string full, SafeFileHandle? handle, SftpAttributes a)
    {
        if (a.Size is { } size)
        {
            if (handle is not null)
            {
                RandomAccess.SetLength(handle, (long)size);
            }
            else
            {
                using var h = File.OpenHandle(full, FileMode.Open, FileAccess.Write);
                RandomAccess.SetLength(h, (long)size);
            }
        }

        if (a.Permissions is { } perms)
        {
            File.SetUnixFileMode(full, (UnixFileMode)(perms & 0xFFF));
        }

        if (a.ModifyTime is { } mtime)
        {
            File.SetLastWriteTimeUtc(full, DateTimeOffset.FromUnixTimeSeconds(mtime).UtcDateTime);
            File.SetLastAccessTimeUtc(full, DateTimeOffset.FromUnixTimeSeconds(a.AccessTime ?? mtime).UtcDateTime);
        }

        return SftpStatus.Ok;
    }

    // ---- errors ----

    private static ValueTask<SftpResult<T>> Guard<T>(Func<SftpResult<T>> action)
    {
        try
        {
            return ValueTask.FromResult(action());
        }
        catch (Exception e) when (ToStatus(e) is { } status)
        {
            return ValueTask.FromResult<SftpResult<T>>(status);
        }
    }

    private static ValueTask<SftpStatus> GuardStatus(Func<SftpStatus> action)
    {
        try
        {
            return ValueTask.FromResult(action());
        }
        catch (Exception e) when (ToStatus(e) is { } status)
        {
            return ValueTask.FromResult(status);
        }
    }

    private static SftpStatus? ToStatus(Exception e) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException => SftpStatus.NoSuchFile(),
        UnauthorizedAccessException => SftpStatus.PermissionDenied(),
        IOException => SftpStatus.Failure(),
        _ => null,
    };

    // ---- ls -l, as OpenSSH's ls_file() prints it (see SftpLongName) ----

    internal static string LongName(string name, NativeStat.Stat st, long now) =>
        SftpLongName.Format(name, st.ToAttributes(), st.NLink, Names.User(st.Uid), Names.Group(st.Gid), DateTimeOffset.FromUnixTimeSeconds(now));

    private sealed class FileHandle(string virtualPath, string fullPath, SafeFileHandle handle, bool writable)
    {
        public string VirtualPath { get; } = virtualPath;

        public string FullPath { get; } = fullPath;

        public SafeFileHandle Handle { get; } = handle;

        public bool Writable { get; } = writable;
    }

    private sealed class DirectoryHandle(string virtualPath, string fullPath)
    {
        public string VirtualPath { get; } = virtualPath;

        public string FullPath { get; } = fullPath;

        public Queue<string>? Remaining { get; set; }
    }

    private static class Names
    {
        private static readonly Lazy<Dictionary<uint, string>> Users = new(() => Load("/etc/passwd"));
        private static readonly Lazy<Dictionary<uint, string>> Groups = new(() => Load("/etc/group"));

        public static string User(uint uid) => Users.Value.TryGetValue(uid, out var n) ? n : uid.ToString(CultureInfo.InvariantCulture);

        public static string Group(uint gid) => Groups.Value.TryGetValue(gid, out var n) ? n : gid.ToString(CultureInfo.InvariantCulture);

        private static Dictionary<uint, string> Load(string file)
        {
            var map = new Dictionary<uint, string>();
            foreach (var line in File.Exists(file) ? File.ReadLines(file) : [])
            {
                var f = line.Split(':');
                if (f.Length > 2 && uint.TryParse(f[2], CultureInfo.InvariantCulture, out var id))
                {
                    map.TryAdd(id, f[0]);
                }
            }

            return map;
        }
    }
}
