using Microsoft.Extensions.Logging.Abstractions;
using Onboarding.Sftp.Packets;
using Onboarding.Sftp.Server;
using static Onboarding.Sftp.Tests.GoldenPacketTests;

namespace Onboarding.Sftp.Tests;

/// <summary>Our server driven with raw bytes: how it answers broken or unexpected input.</summary>
public class ServerProtocolTests
{
    private sealed class RawSession : IAsyncDisposable
    {
        private readonly string _root = SessionPair.NewTempDirectory();

        public RawSession(SftpServerOptions? options = null)
        {
            (Client, var server) = DuplexPipeStream.CreatePair();
            ServerStream = server;
            Server = Task.Run(() => SftpServer.RunAsync(server, new DirectorySftpHandler(_root), options ?? SftpServerOptions.Default, NullLogger.Instance, CancellationToken.None));
        }

        public DuplexPipeStream Client { get; }

        public DuplexPipeStream ServerStream { get; }

        public Task Server { get; }

        public async Task SendAsync(string hex) => await Client.WriteAsync(Hex(hex));

        public async Task<SftpPacket> ReceiveAsync()
        {
            var header = new byte[4];
            await Client.ReadExactlyAsync(header).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            var length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(header);
            var body = new byte[length];
            await Client.ReadExactlyAsync(body).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            return SftpPacketCodec.Decode(body);
        }

        public async Task InitAsync()
        {
            await SendAsync("00000005 01 00000003");
            var version = Assert.IsType<VersionPacket>(await ReceiveAsync());
            Assert.Equal(3u, version.Version);
        }

        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            try
            {
                await Server.WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (SftpProtocolException)
            {
            }

            await ServerStream.DisposeAsync();
            Directory.Delete(_root, true);
        }
    }

    [Fact]
    public async Task Version_advertises_the_openssh_extensions()
    {
        await using var s = new RawSession();
        await s.SendAsync("00000005 01 00000006"); // a v6 client gets version 3
        var version = Assert.IsType<VersionPacket>(await s.ReceiveAsync());
        Assert.Equal(3u, version.Version);
        var names = version.Extensions.Select(e => e.Name).ToList();
        Assert.Contains("limits@openssh.com", names);
        Assert.Contains("posix-rename@openssh.com", names);
        Assert.Contains("fsync@openssh.com", names);
        Assert.Contains("statvfs@openssh.com", names);
    }

    [Fact]
    public async Task Malformed_request_is_answered_with_bad_message_and_the_session_continues()
    {
        await using var s = new RawSession();
        await s.InitAsync();
        await s.SendAsync("0000000c 11 00000007 00000001 2f 0000"); // STAT with two trailing bytes
        var status = Assert.IsType<StatusPacket>(await s.ReceiveAsync());
        Assert.Equal(7u, status.RequestId);
        Assert.Equal(SftpStatusCode.BadMessage, status.Code);
        await s.SendAsync("0000000a 11 00000008 00000001 2f");
        Assert.Equal(8u, Assert.IsType<AttrsPacket>(await s.ReceiveAsync()).RequestId);
    }

    [Fact]
    public async Task Unknown_packet_type_is_answered_with_op_unsupported()
    {
        await using var s = new RawSession();
        await s.InitAsync();
        await s.SendAsync("00000005 63 0000002a");
        var status = Assert.IsType<StatusPacket>(await s.ReceiveAsync());
        Assert.Equal(42u, status.RequestId);
        Assert.Equal(SftpStatusCode.OpUnsupported, status.Code);
    }

    [Fact]
    public async Task Unknown_extension_is_answered_with_op_unsupported()
    {
        await using var s = new RawSession();
        await s.InitAsync();
        await s.SendAsync("0000000e c8 00000009 00000005 666f6f4078");
        var status = Assert.IsType<StatusPacket>(await s.ReceiveAsync());
        Assert.Equal(9u, status.RequestId);
        Assert.Equal(SftpStatusCode.OpUnsupported, status.Code);
    }

    [Fact]
    public async Task Response_packet_sent_as_a_request_is_a_bad_message()
    {
        await using var s = new RawSession();
        await s.InitAsync();
        await s.SendAsync("0000000a 66 00000005 00000001 68"); // HANDLE from a client
        var status = Assert.IsType<StatusPacket>(await s.ReceiveAsync());
        Assert.Equal(SftpStatusCode.BadMessage, status.Code);
    }

    [Fact]
    public async Task Unknown_handle_is_a_failure()
    {
        await using var s = new RawSession();
        await s.InitAsync();
        await s.SendAsync("0000000a 04 00000003 00000001 68"); // CLOSE "h"
        var status = Assert.IsType<StatusPacket>(await s.ReceiveAsync());
        Assert.Equal(SftpStatusCode.Failure, status.Code);
    }

    [Fact]
    public async Task Oversized_packet_ends_the_session_with_a_protocol_error()
    {
        await using var s = new RawSession(new SftpServerOptions { MaxPacketLength = 1024 });
        await s.InitAsync();
        await s.SendAsync("00000401 06");
        var e = await Assert.ThrowsAsync<SftpProtocolException>(() => s.Server.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(SftpProtocolError.LengthExceedsMaximum, e.Error);
    }

    [Fact]
    public async Task First_packet_must_be_init()
    {
        await using var s = new RawSession();
        await s.SendAsync("0000000a 11 00000001 00000001 2f");
        var e = await Assert.ThrowsAsync<SftpProtocolException>(() => s.Server.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(SftpProtocolError.UnexpectedPacket, e.Error);
    }

    [Fact]
    public async Task Version_2_clients_are_refused()
    {
        await using var s = new RawSession();
        await s.SendAsync("00000005 01 00000002");
        var e = await Assert.ThrowsAsync<SftpProtocolException>(() => s.Server.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(SftpProtocolError.UnsupportedVersion, e.Error);
    }

    [Fact]
    public async Task Oversized_read_is_capped_at_the_read_limit()
    {
        await using var s = new RawSession(new SftpServerOptions { MaxReadLength = 100 });
        await s.InitAsync();
        var open = new OpenPacket(1, "/f", SftpOpenFlags.Write | SftpOpenFlags.Read | SftpOpenFlags.Create, SftpAttributes.Empty).ToFrame();
        await s.Client.WriteAsync(open);
        var handle = Assert.IsType<HandlePacket>(await s.ReceiveAsync()).Handle;
        await s.Client.WriteAsync(new WritePacket(2, handle, 0, new byte[1000]).ToFrame());
        Assert.Equal(SftpStatusCode.Ok, Assert.IsType<StatusPacket>(await s.ReceiveAsync()).Code);
        await s.Client.WriteAsync(new ReadPacket(3, handle, 0, 100_000).ToFrame());
        Assert.Equal(100, Assert.IsType<DataPacket>(await s.ReceiveAsync()).Data.Length);
    }

    [Fact]
    public async Task Random_request_bodies_never_crash_the_server()
    {
        await using var s = new RawSession();
        await s.InitAsync();
        var random = new Random(42);
        var types = new byte[] { 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 200, 99 };
        for (uint id = 1; id <= 300; id++)
        {
            var body = new byte[random.Next(0, 40)];
            random.NextBytes(body);
            var frame = new byte[9 + body.Length];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)(5 + body.Length));
            frame[4] = types[random.Next(types.Length)];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(5), id);
            body.CopyTo(frame, 9);
            await s.Client.WriteAsync(frame);
        }

        // Every request gets exactly one answer, and the session is still alive afterwards.
        var answered = new HashSet<uint>();
        for (var i = 0; i < 300; i++)
        {
            answered.Add(Assert.IsAssignableFrom<SftpRequest>(await s.ReceiveAsync()).RequestId);
        }

        Assert.Equal(300, answered.Count);
        await s.SendAsync("0000000a 11 0000ffff 00000001 2f");
        Assert.Equal(0xffffu, Assert.IsType<AttrsPacket>(await s.ReceiveAsync()).RequestId);
        Assert.False(s.Server.IsCompleted);
    }

    [Fact]
    public async Task Server_stops_reading_when_the_client_does_not_read_responses()
    {
        await using var s = new RawSession(new SftpServerOptions { MaxInFlightRequests = 4 });
        await s.InitAsync();
        await s.Client.WriteAsync(new OpenPacket(1, "/f", SftpOpenFlags.Write | SftpOpenFlags.Read | SftpOpenFlags.Create, SftpAttributes.Empty).ToFrame());
        var handle = Assert.IsType<HandlePacket>(await s.ReceiveAsync()).Handle;
        await s.Client.WriteAsync(new WritePacket(2, handle, 0, new byte[200_000]).ToFrame());
        Assert.IsType<StatusPacket>(await s.ReceiveAsync());

        // 20,000 READs of 200 KB would be 4 GB of responses (and 580 KB of requests, well over
        // the 64 KB the in-memory pipe buffers). With 4 slots held until each
        // response is written, and nobody reading them, the server must stop reading requests,
        // so our writes stall once the pipe to the server is full.
        var flood = Task.Run(async () =>
        {
            for (uint id = 10; id < 20_010; id++)
            {
                await s.Client.WriteAsync(new ReadPacket(id, handle, 0, 200_000).ToFrame());
            }
        });
        await Task.WhenAny(flood, Task.Delay(TimeSpan.FromSeconds(2)));
        Assert.False(flood.IsCompleted, "the server kept reading requests while its responses piled up");
    }
}

public class RequestOrderingTests
{
    private static readonly RequestOrdering.Scope Range = RequestOrdering.Scope.Range;

    [Fact]
    public void Disjoint_writes_on_one_handle_do_not_wait()
    {
        var o = new RequestOrdering();
        var a = new TaskCompletionSource();
        Assert.True(o.Admit(a.Task, Range, 1, 0, 100, writes: true).IsCompleted);
        Assert.True(o.Admit(new TaskCompletionSource().Task, Range, 1, 100, 100, writes: true).IsCompleted);
    }

    [Fact]
    public void Overlapping_write_waits_for_the_earlier_one()
    {
        var o = new RequestOrdering();
        var a = new TaskCompletionSource();
        o.Admit(a.Task, Range, 1, 0, 100, writes: true);
        var wait = o.Admit(new TaskCompletionSource().Task, Range, 1, 50, 100, writes: false);
        Assert.False(wait.IsCompleted);
        a.SetResult();
        Assert.True(wait.IsCompleted);
    }

    [Fact]
    public void Overlapping_reads_do_not_wait_and_other_handles_are_independent()
    {
        var o = new RequestOrdering();
        o.Admit(new TaskCompletionSource().Task, Range, 1, 0, 100, writes: false);
        Assert.True(o.Admit(new TaskCompletionSource().Task, Range, 1, 0, 100, writes: false).IsCompleted);
        Assert.True(o.Admit(new TaskCompletionSource().Task, Range, 2, 0, 100, writes: true).IsCompleted);
    }

    [Fact]
    public void Close_waits_for_everything_on_its_handle()
    {
        var o = new RequestOrdering();
        var w = new TaskCompletionSource();
        o.Admit(w.Task, Range, 1, 0, 10, writes: true);
        var close = o.Admit(new TaskCompletionSource().Task, RequestOrdering.Scope.Handle, 1);
        Assert.False(close.IsCompleted);
        w.SetResult();
        Assert.True(close.IsCompleted);
    }

    [Fact]
    public void Path_request_is_a_barrier_both_ways()
    {
        var o = new RequestOrdering();
        var w = new TaskCompletionSource();
        o.Admit(w.Task, Range, 1, 0, 10, writes: true);
        var rename = new TaskCompletionSource();
        var renameWait = o.Admit(rename.Task, RequestOrdering.Scope.Everything);
        var later = o.Admit(new TaskCompletionSource().Task, Range, 2, 0, 10, writes: true);
        Assert.False(renameWait.IsCompleted);
        Assert.False(later.IsCompleted);
        w.SetResult();
        Assert.True(renameWait.IsCompleted);
        Assert.False(later.IsCompleted);
        rename.SetResult();
        Assert.True(later.IsCompleted);
    }

    [Fact]
    public void Open_does_not_wait_for_the_close_of_another_file()
    {
        var o = new RequestOrdering();
        var close = new TaskCompletionSource();
        o.Admit(close.Task, RequestOrdering.Scope.Handle, 1, path: "/incoming/a.xml");
        Assert.True(o.Admit(new TaskCompletionSource().Task, RequestOrdering.Scope.File, path: "/incoming/b.xml").IsCompleted);
    }

    [Fact]
    public void Open_waits_for_requests_on_the_same_file_however_it_is_spelled()
    {
        var o = new RequestOrdering();
        var close = new TaskCompletionSource();
        o.Admit(close.Task, RequestOrdering.Scope.Handle, 1, path: "/incoming/a.xml");
        var reopen = o.Admit(new TaskCompletionSource().Task, RequestOrdering.Scope.File, path: "incoming/./a.xml");
        var open = new TaskCompletionSource();
        o.Admit(open.Task, RequestOrdering.Scope.File, path: "c.xml");
        var openAgain = o.Admit(new TaskCompletionSource().Task, RequestOrdering.Scope.File, path: "/c.xml");
        Assert.False(reopen.IsCompleted);
        Assert.False(openAgain.IsCompleted);
        close.SetResult();
        open.SetResult();
        Assert.True(reopen.IsCompleted);
        Assert.True(openAgain.IsCompleted);
    }

    [Fact]
    public void Open_waits_for_a_handle_request_whose_file_is_unknown_and_a_rename_waits_for_opens()
    {
        var o = new RequestOrdering();
        var unknown = new TaskCompletionSource();
        o.Admit(unknown.Task, RequestOrdering.Scope.Handle, 7);
        var open = new TaskCompletionSource();
        var openWait = o.Admit(open.Task, RequestOrdering.Scope.File, path: "/incoming/x.xml");
        var rename = o.Admit(new TaskCompletionSource().Task, RequestOrdering.Scope.Everything);
        Assert.False(openWait.IsCompleted);
        unknown.SetResult();
        Assert.True(openWait.IsCompleted);
        Assert.False(rename.IsCompleted);
        open.SetResult();
        Assert.True(rename.IsCompleted);
    }

    [Fact]
    public void Range_at_the_end_of_the_offset_space_does_not_wrap()
    {
        var o = new RequestOrdering();
        o.Admit(new TaskCompletionSource().Task, Range, 1, ulong.MaxValue - 5, 100, writes: true);
        Assert.True(o.Admit(new TaskCompletionSource().Task, Range, 1, 0, 10, writes: true).IsCompleted);
        Assert.False(o.Admit(new TaskCompletionSource().Task, Range, 1, ulong.MaxValue - 1, 1, writes: true).IsCompleted);
    }
}
