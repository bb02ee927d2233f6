using System.Diagnostics;
using System.Security.Cryptography;

namespace Onboarding.Sftp.Tests;

/// <summary>Our client against our server over an in-memory pipe, one behaviour per test.</summary>
public class ClientServerTests
{
    private static byte[] RandomBytes(int length)
    {
        var data = new byte[length];
        new Random(length).NextBytes(data);
        return data;
    }

    [Fact]
    public async Task Connect_negotiates_version_3_extensions_and_limits()
    {
        await using var s = await SessionPair.StartAsync();
        Assert.Equal(3u, s.Client.ServerVersion);
        Assert.Contains("limits@openssh.com", s.Client.ServerExtensions.Keys);
        Assert.Contains("posix-rename@openssh.com", s.Client.ServerExtensions.Keys);
        Assert.Contains("fsync@openssh.com", s.Client.ServerExtensions.Keys);
        Assert.Contains("statvfs@openssh.com", s.Client.ServerExtensions.Keys);
        Assert.Equal(new SftpLimits(256 * 1024 + 1024, 256 * 1024 - 1024, 256 * 1024 - 1024, 256), s.Client.ServerLimits);
    }

    [Fact]
    public async Task Upload_then_download_round_trips_the_bytes()
    {
        await using var s = await SessionPair.StartAsync();
        var data = RandomBytes(3 * 1024 * 1024 + 123);
        var sent = await s.Client.UploadAsync("/up.bin", new MemoryStream(data));
        Assert.Equal(data.Length, sent);
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(s.Root, "up.bin")));

        var back = new MemoryStream();
        Assert.Equal(data.Length, await s.Client.DownloadAsync("/up.bin", back));
        Assert.Equal(data, back.ToArray());
    }

    [Fact]
    public async Task Empty_file_round_trips()
    {
        await using var s = await SessionPair.StartAsync();
        Assert.Equal(0, await s.Client.UploadAsync("empty", new MemoryStream()));
        var back = new MemoryStream();
        Assert.Equal(0, await s.Client.DownloadAsync("empty", back));
        Assert.True(File.Exists(Path.Combine(s.Root, "empty")));
    }

    [Fact]
    public async Task Download_recovers_from_short_reads()
    {
        await using var s = await SessionPair.StartAsync(root => new DirectorySftpHandler(root) { MaxReadPerCall = 1000 });
        var data = RandomBytes(200_003);
        await File.WriteAllBytesAsync(Path.Combine(s.Root, "f"), data);
        var back = new MemoryStream();
        await s.Client.DownloadAsync("/f", back);
        Assert.Equal(data, back.ToArray());
    }

    [Fact]
    public async Task Writes_sent_in_reverse_order_produce_the_right_file()
    {
        await using var s = await SessionPair.StartAsync();
        var data = RandomBytes(64 * 4096);
        var handle = await s.Client.OpenAsync("/rev", SftpOpenFlags.Write | SftpOpenFlags.Create);
        var writes = Enumerable.Range(0, 64).Reverse()
            .Select(i => s.Client.WriteAsync(handle, (ulong)(i * 4096), data.AsMemory(i * 4096, 4096)))
            .ToList();
        await Task.WhenAll(writes);
        await s.Client.CloseAsync(handle);
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(s.Root, "rev")));
        var seen = s.Handler.WriteOffsets.ToList();
        Assert.Equal(64, seen.Count);
        Assert.NotEqual(seen.Order().ToList(), seen); // the handler really saw them out of order
    }

    [Fact]
    public async Task Writes_sent_in_random_order_produce_the_right_file()
    {
        await using var s = await SessionPair.StartAsync();
        var data = RandomBytes(100 * 3000 + 17);
        var blocks = Enumerable.Range(0, 101).ToArray();
        new Random(7).Shuffle(blocks);
        var handle = await s.Client.OpenAsync("/rnd", SftpOpenFlags.Write | SftpOpenFlags.Create | SftpOpenFlags.Truncate);
        await Task.WhenAll(blocks.Select(i =>
        {
            var start = i * 3000;
            var length = Math.Min(3000, data.Length - start);
            return s.Client.WriteAsync(handle, (ulong)start, data.AsMemory(start, length));
        }));
        await s.Client.CloseAsync(handle);
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(s.Root, "rnd")));
    }

    [Fact]
    public async Task Pipelined_writes_run_concurrently_in_the_handler()
    {
        await using var s = await SessionPair.StartAsync(root => new DirectorySftpHandler(root) { WriteDelay = TimeSpan.FromMilliseconds(100) });
        var handle = await s.Client.OpenAsync("/par", SftpOpenFlags.Write | SftpOpenFlags.Create);
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 32).Select(i => s.Client.WriteAsync(handle, (ulong)(i * 10), new byte[10])));
        watch.Stop();
        await s.Client.CloseAsync(handle);
        // Serialised, 32 writes would take 3.2 s.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1.6), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task Overlapping_writes_are_applied_in_request_order()
    {
        await using var s = await SessionPair.StartAsync(root => new DirectorySftpHandler(root) { WriteDelay = TimeSpan.FromMilliseconds(30) });
        var handle = await s.Client.OpenAsync("/ovl", SftpOpenFlags.Write | SftpOpenFlags.Create);
        var first = s.Client.WriteAsync(handle, 0, "AAAA"u8.ToArray());
        var second = s.Client.WriteAsync(handle, 1, "BB"u8.ToArray());
        await Task.WhenAll(first, second);
        await s.Client.CloseAsync(handle);
        Assert.Equal("ABBA", await File.ReadAllTextAsync(Path.Combine(s.Root, "ovl")));
    }

    [Fact]
    public async Task Bounded_in_flight_requests_still_complete_correctly()
    {
        await using var s = await SessionPair.StartAsync(
            root => new DirectorySftpHandler(root) { WriteDelay = TimeSpan.FromMilliseconds(1) },
            new SftpServerOptions { MaxInFlightRequests = 2 });
        var data = RandomBytes(1024 * 1024);
        await s.Client.UploadAsync("/b", new MemoryStream(data));
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(s.Root, "b")));
    }

    [Fact]
    public async Task Upload_respects_the_server_write_limit()
    {
        await using var s = await SessionPair.StartAsync(serverOptions: new SftpServerOptions { MaxWriteLength = 1000 });
        await s.Client.UploadAsync("/small-chunks", new MemoryStream(RandomBytes(10_000)));
        Assert.Equal(10, s.Handler.WriteOffsets.Count);
    }

    [Fact]
    public async Task Upload_keeps_at_most_the_configured_writes_outstanding()
    {
        await using var s = await SessionPair.StartAsync(
            root => new DirectorySftpHandler(root) { WriteDelay = TimeSpan.FromMilliseconds(20) },
            clientOptions: new SftpClientOptions { MaxOutstandingRequests = 8, WriteChunkSize = 1024 });
        await s.Client.UploadAsync("/p", new MemoryStream(RandomBytes(100 * 1024)));
        Assert.InRange(s.Handler.MaxConcurrentWrites, 2, 8);
    }

    [Fact]
    public async Task Failed_write_fails_the_upload_with_the_server_message()
    {
        await using var s = await SessionPair.StartAsync(root => new DirectorySftpHandler(root) { FailWritesFrom = 64 * 1024 });
        var e = await Assert.ThrowsAsync<SftpStatusException>(() => s.Client.UploadAsync("/full", new MemoryStream(RandomBytes(1024 * 1024))));
        Assert.Equal("disk full", e.Message);
        Assert.Empty(s.Handler.Aborted); // the client closed its handle
        Assert.True((await s.Client.StatAsync("/")).IsDirectory); // and the session goes on
    }

    [Fact]
    public async Task Close_failure_message_reaches_the_client()
    {
        await using var s = await SessionPair.StartAsync(root => new DirectorySftpHandler(root)
        {
            Commit = path => path.EndsWith(".xml", StringComparison.Ordinal) ? SftpStatus.Failure("record rejected: serial mismatch") : SftpStatus.Ok,
        });
        var e = await Assert.ThrowsAsync<SftpStatusException>(() => s.Client.UploadAsync("/device.xml", new MemoryStream("<record/>"u8.ToArray())));
        Assert.Equal(SftpStatusCode.Failure, e.Code);
        Assert.Equal("record rejected: serial mismatch", e.Message);
        await s.Client.UploadAsync("/device.txt", new MemoryStream("ok"u8.ToArray()));
    }

    [Fact]
    public async Task Dropped_connection_aborts_open_handles()
    {
        var s = await SessionPair.StartAsync();
        try
        {
            var handle = await s.Client.OpenAsync("/partial", SftpOpenFlags.Write | SftpOpenFlags.Create);
            await s.Client.WriteAsync(handle, 0, new byte[100]);
            var closed = await s.Client.OpenAsync("/complete", SftpOpenFlags.Write | SftpOpenFlags.Create);
            await s.Client.CloseAsync(closed);
            await s.Client.ListDirectoryAsync("/"); // open + closed directory handle: not aborted
            await s.DropClientAsync();
            Assert.Equal(["/partial"], s.Handler.Aborted.ToArray());
        }
        finally
        {
            await s.DisposeAsync();
        }
    }

    [Fact]
    public async Task Cancelling_the_server_ends_the_session_and_aborts_open_handles()
    {
        var root = SessionPair.NewTempDirectory();
        var handler = new DirectorySftpHandler(root);
        var (clientStream, serverStream) = DuplexPipeStream.CreatePair();
        using var cts = new CancellationTokenSource();
        var server = Task.Run(() => SftpServer.RunAsync(serverStream, handler, SftpServerOptions.Default, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, cts.Token));
        await using (var client = new SftpClient(clientStream))
        {
            await client.ConnectAsync();
            await client.OpenAsync("/open", SftpOpenFlags.Write | SftpOpenFlags.Create);
            await cts.CancelAsync();
            await server.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(["/open"], handler.Aborted.ToArray());
        }

        await clientStream.DisposeAsync();
        await serverStream.DisposeAsync();
        Directory.Delete(root, true);
    }

    [Fact]
    public async Task Requests_after_the_server_goes_away_fail_with_connection_closed()
    {
        var (clientStream, serverStream) = DuplexPipeStream.CreatePair();
        await using var client = new SftpClient(clientStream);
        var connect = client.ConnectAsync();
        var init = new byte[9];
        await serverStream.ReadExactlyAsync(init);
        await serverStream.WriteAsync(Convert.FromHexString("000000050200000003")); // VERSION 3, no extensions
        await connect.WaitAsync(TimeSpan.FromSeconds(10));
        await serverStream.DisposeAsync();
        var e = await Assert.ThrowsAsync<SftpProtocolException>(() => client.StatAsync("/").WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(SftpProtocolError.ConnectionClosed, e.Error);
        await clientStream.DisposeAsync();
    }

    [Fact]
    public async Task Handler_exception_fails_only_that_request_and_is_logged()
    {
        var logger = new ListLogger();
        await using var s = await SessionPair.StartAsync(root => new DirectorySftpHandler(root) { ThrowOnStat = "/boom" }, logger: logger);
        var e = await Assert.ThrowsAsync<SftpStatusException>(() => s.Client.StatAsync("/boom"));
        Assert.Equal(SftpStatusCode.Failure, e.Code);
        Assert.True((await s.Client.StatAsync("/")).IsDirectory);
        lock (logger.Entries)
        {
            Assert.Contains(logger.Entries, x => x.Exception is InvalidOperationException);
        }
    }

    [Fact]
    public async Task Listing_returns_names_attributes_and_ls_style_long_names()
    {
        await using var s = await SessionPair.StartAsync();
        Directory.CreateDirectory(Path.Combine(s.Root, "sub"));
        await File.WriteAllBytesAsync(Path.Combine(s.Root, "a.txt"), new byte[5]);
        for (var i = 0; i < 250; i++)
        {
            await File.WriteAllTextAsync(Path.Combine(s.Root, $"many{i:000}"), "x");
        }

        var entries = await s.Client.ListDirectoryAsync("/");
        Assert.Equal(252, entries.Count);
        var a = entries.Single(e => e.FileName == "a.txt");
        Assert.Equal(5ul, a.Attributes.Size);
        Assert.True(a.Attributes.IsRegularFile);
        Assert.StartsWith("-rw", a.LongName, StringComparison.Ordinal);
        Assert.EndsWith(" a.txt", a.LongName, StringComparison.Ordinal);
        Assert.True(entries.Single(e => e.FileName == "sub").Attributes.IsDirectory);
    }

    [Fact]
    public async Task Stat_lstat_fstat_and_setstat_work()
    {
        await using var s = await SessionPair.StartAsync();
        await File.WriteAllBytesAsync(Path.Combine(s.Root, "f"), new byte[10]);
        Assert.Equal(10ul, (await s.Client.StatAsync("/f")).Size);
        Assert.Equal(10ul, (await s.Client.LStatAsync("f")).Size);
        await s.Client.SetStatAsync("/f", new SftpAttributes { Size = 4, Permissions = 0x180, AccessTime = 1_000_000_000, ModifyTime = 1_000_000_000 });
        var after = await s.Client.StatAsync("/f");
        Assert.Equal(4ul, after.Size);
        Assert.Equal(0x180u, after.Permissions & 0xFFF);
        Assert.Equal(1_000_000_000u, after.ModifyTime);
        var handle = await s.Client.OpenAsync("/f", SftpOpenFlags.Read | SftpOpenFlags.Write);
        Assert.Equal(4ul, (await s.Client.FStatAsync(handle)).Size);
        await s.Client.FSetStatAsync(handle, new SftpAttributes { Size = 2 });
        await s.Client.FsyncAsync(handle);
        await s.Client.CloseAsync(handle);
        Assert.Equal(2, new FileInfo(Path.Combine(s.Root, "f")).Length);
        var missing = await Assert.ThrowsAsync<SftpStatusException>(() => s.Client.StatAsync("/nope"));
        Assert.Equal(SftpStatusCode.NoSuchFile, missing.Code);
    }

    [Fact]
    public async Task Read_past_end_is_eof_and_read_write_of_one_handle_agree()
    {
        await using var s = await SessionPair.StartAsync();
        var handle = await s.Client.OpenAsync("/rw", SftpOpenFlags.Read | SftpOpenFlags.Write | SftpOpenFlags.Create);
        var write = s.Client.WriteAsync(handle, 0, "hello"u8.ToArray());
        var read = s.Client.ReadAsync(handle, 0, 100); // pipelined behind the write on the same range
        await write;
        Assert.Equal("hello"u8.ToArray(), (await read).ToArray());
        Assert.True((await s.Client.ReadAsync(handle, 5, 100)).IsEmpty);
        await s.Client.CloseAsync(handle);
        var invalid = await Assert.ThrowsAsync<SftpStatusException>(() => s.Client.ReadAsync(handle, 0, 1));
        Assert.Equal(SftpStatusCode.Failure, invalid.Code);
    }

    [Fact]
    public async Task Remove_rename_and_posix_rename_work()
    {
        await using var s = await SessionPair.StartAsync();
        await File.WriteAllTextAsync(Path.Combine(s.Root, "a"), "A");
        await File.WriteAllTextAsync(Path.Combine(s.Root, "b"), "B");
        var clash = await Assert.ThrowsAsync<SftpStatusException>(() => s.Client.RenameAsync("/a", "/b"));
        Assert.Equal(SftpStatusCode.Failure, clash.Code);
        await s.Client.RenameAsync("/a", "/c");
        await s.Client.RenameAsync("/c", "/b", overwrite: true);
        Assert.Equal("A", await File.ReadAllTextAsync(Path.Combine(s.Root, "b")));
        await s.Client.RemoveAsync("/b");
        Assert.False(File.Exists(Path.Combine(s.Root, "b")));
        Assert.Equal(SftpStatusCode.NoSuchFile, (await Assert.ThrowsAsync<SftpStatusException>(() => s.Client.RemoveAsync("/b"))).Code);
    }

    [Fact]
    public async Task Make_and_remove_directory_work()
    {
        await using var s = await SessionPair.StartAsync();
        await s.Client.MakeDirectoryAsync("/d", new SftpAttributes { Permissions = 0x1ed });
        Assert.True(Directory.Exists(Path.Combine(s.Root, "d")));
        Assert.True((await s.Client.StatAsync("/d")).IsDirectory);
        await Assert.ThrowsAsync<SftpStatusException>(() => s.Client.MakeDirectoryAsync("/d"));
        await s.Client.RemoveDirectoryAsync("/d");
        Assert.False(Directory.Exists(Path.Combine(s.Root, "d")));
    }

    [Fact]
    public async Task Realpath_normalises_and_escapes_are_refused()
    {
        await using var s = await SessionPair.StartAsync();
        Assert.Equal("/", await s.Client.RealPathAsync("."));
        Assert.Equal("/b", await s.Client.RealPathAsync("/a/../b"));
        Assert.Equal(SftpStatusCode.PermissionDenied, (await Assert.ThrowsAsync<SftpStatusException>(() => s.Client.RealPathAsync("/.."))).Code);
        Assert.Equal(SftpStatusCode.PermissionDenied, (await Assert.ThrowsAsync<SftpStatusException>(() => s.Client.StatAsync("../etc/passwd"))).Code);
    }

    [Fact]
    public async Task Symlinks_are_refused_by_this_handler()
    {
        await using var s = await SessionPair.StartAsync();
        File.CreateSymbolicLink(Path.Combine(s.Root, "out"), "/etc");
        Assert.Equal(SftpStatusCode.PermissionDenied, (await Assert.ThrowsAsync<SftpStatusException>(() => s.Client.StatAsync("/out/passwd"))).Code);
        Assert.Equal(SftpStatusCode.OpUnsupported, (await Assert.ThrowsAsync<SftpStatusException>(() => s.Client.ReadLinkAsync("/out"))).Code);
        Assert.Equal(SftpStatusCode.OpUnsupported, (await Assert.ThrowsAsync<SftpStatusException>(() => s.Client.SymlinkAsync("/l", "/etc"))).Code);
    }

    [Fact]
    public async Task Statvfs_reports_the_file_system()
    {
        await using var s = await SessionPair.StartAsync();
        var vfs = await s.Client.StatVfsAsync("/");
        Assert.Equal(4096ul, vfs.BlockSize);
        Assert.True(vfs.Blocks > 0);
    }

    [Fact]
    public async Task Hash_of_a_large_pipelined_upload_matches()
    {
        await using var s = await SessionPair.StartAsync();
        var data = RandomBytes(16 * 1024 * 1024);
        await s.Client.UploadAsync("/big", new MemoryStream(data));
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(await File.ReadAllBytesAsync(Path.Combine(s.Root, "big"))));
    }
}
