using System.Text;
using System.Xml.Linq;
using Onboarding.Netconf.Datastore;
using Onboarding.Netconf.Framing;
using Onboarding.Netconf.Messages;

namespace Onboarding.Netconf.Tests;

/// <summary>A client session against a server session backed by the in-memory datastore, wired by an in-memory pipe.</summary>
public class SessionTests
{
    private static readonly XNamespace T = DatastoreTests.T;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static XElement Interface(string name, int mtu) =>
        new(T + "top", new XElement(T + "interface", new XElement(T + "name", name), new XElement(T + "mtu", mtu)));

    private static XElement MtuFilter(string name) => new(NetconfXml.Base + "filter", new XAttribute("type", "subtree"),
        new XElement(T + "top", new XElement(T + "interface", new XElement(T + "name", name), new XElement(T + "mtu"))));

    private static (Task Server, Stream ClientEnd) StartServer(InMemoryDatastore store, NetconfServerOptions? options = null, int maxRead = 7)
    {
        var (client, server) = DuplexPipe.Create(maxRead);
        var task = Task.Run(async () =>
        {
            using (server)
                await NetconfServerSession.RunAsync(server, options ?? new NetconfServerOptions { SessionId = 7 }, store.HandleRpcAsync);
        });
        return (task, client);
    }

    [Fact]
    public async Task Base11_peers_use_chunked_framing_and_configure_through_candidate_and_commit()
    {
        var store = new InMemoryDatastore(DatastoreTests.Schema);
        var (server, stream) = StartServer(store);
        using var session = await NetconfClientSession.ConnectAsync(stream).WaitAsync(Timeout);
        Assert.Equal(NetconfFraming.Chunked, session.Framing);
        Assert.Equal(7u, session.SessionId);
        Assert.True(session.ServerCapabilities.HasCandidate);

        await session.LockAsync(DatastoreName.Candidate);
        await session.EditConfigAsync(DatastoreName.Candidate, Interface("Ethernet0/0", 9000));
        Assert.Empty((await session.GetConfigAsync(DatastoreName.Running)).Elements());
        await session.CommitAsync();
        await session.UnlockAsync(DatastoreName.Candidate);

        var data = await session.GetConfigAsync(DatastoreName.Running, MtuFilter("Ethernet0/0"));
        Assert.Equal("9000", data.Descendants(T + "mtu").Single().Value);
        Assert.Equal("9000", store.Snapshot(DatastoreName.Running).Descendants(T + "mtu").Single().Value);

        Assert.True((await session.CloseSessionAsync()).IsOk);
        await server.WaitAsync(Timeout); // close-session ends the server loop
        stream.Dispose();
    }

    [Fact]
    public async Task A_base10_only_device_gets_end_of_message_framing_and_writable_running()
    {
        var store = new InMemoryDatastore(DatastoreTests.Schema);
        var (server, stream) = StartServer(store, new NetconfServerOptions
        {
            SessionId = 3,
            Capabilities = [NetconfCapabilities.Base10, NetconfCapabilities.WritableRunning],
        }, maxRead: 3);
        using var session = await NetconfClientSession.ConnectAsync(stream).WaitAsync(Timeout);
        Assert.Equal(NetconfFraming.EndOfMessage, session.Framing);
        Assert.True(session.ServerCapabilities.HasWritableRunning);
        Assert.False(session.ServerCapabilities.HasCandidate);
        await session.EditConfigAsync(DatastoreName.Running, Interface("ge-0/0/0", 1514));
        var data = await session.GetConfigAsync(DatastoreName.Running);
        Assert.Equal("1514", data.Descendants(T + "mtu").Single().Value);
        stream.Dispose(); // closing the channel without close-session ends the server cleanly too
        await server.WaitAsync(Timeout);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_slow_first_reply_gets_the_nudge_which_our_server_takes_as_the_start_of_the_next_message(bool base11)
    {
        // The nudge for servers that sit on an RPC read with the hello must be harmless for one that is merely slow.
        var store = new InMemoryDatastore(DatastoreTests.Schema);
        var first = 0;
        var (client, serverEnd) = DuplexPipe.Create(5);
        var server = Task.Run(async () =>
        {
            using (serverEnd)
            {
                await NetconfServerSession.RunAsync(serverEnd, new NetconfServerOptions { SessionId = 9 }, async (rpc, ct) =>
                {
                    if (Interlocked.Increment(ref first) == 1)
                        await Task.Delay(600, ct);
                    return await store.HandleRpcAsync(rpc, ct);
                });
            }
        });
        var options = new NetconfClientOptions
        {
            Capabilities = base11 ? [NetconfCapabilities.Base10, NetconfCapabilities.Base11] : [NetconfCapabilities.Base10],
            FirstReplyNudge = TimeSpan.FromMilliseconds(100),
        };
        var recorder = new RecordingStream(client);
        using var session = await NetconfClientSession.ConnectAsync(recorder, options).WaitAsync(Timeout);

        await session.EditConfigAsync(DatastoreName.Candidate, Interface("xe-0/0/1", 1500)).WaitAsync(Timeout);
        await session.CommitAsync().WaitAsync(Timeout);
        Assert.Equal("1500", (await session.GetConfigAsync(DatastoreName.Running).WaitAsync(Timeout)).Descendants(T + "mtu").Single().Value);
        Assert.True((await session.CloseSessionAsync().WaitAsync(Timeout)).IsOk);
        await server.WaitAsync(Timeout);

        // Sent once, right after the first RPC, in the session's framing.
        var nudge = base11 ? "\n#1\n\n" : "\n";
        var written = Encoding.UTF8.GetString(recorder.Written.ToArray());
        var afterFirst = written.IndexOf("</rpc>", StringComparison.Ordinal) + (base11 ? "</rpc>\n##\n".Length : "</rpc>]]>]]>".Length);
        Assert.StartsWith(nudge + (base11 ? "\n#" : "<rpc"), written[afterFirst..], StringComparison.Ordinal);
        Assert.Equal(1, CountOf(written, base11 ? "\n#1\n\n" : "]]>]]>\n<rpc"));
    }

    private static int CountOf(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + 1, StringComparison.Ordinal))
            count++;
        return count;
    }

    /// <summary>Passes everything through and keeps a copy of what was written.</summary>
    private sealed class RecordingStream(Stream inner) : Stream
    {
        public MemoryStream Written { get; } = new();

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            lock (Written)
                Written.Write(buffer.Span);
            return inner.WriteAsync(buffer, cancellationToken);
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }

    [Fact]
    public async Task Peers_without_a_common_base_both_refuse()
    {
        var (client, serverEnd) = DuplexPipe.Create();
        var server = NetconfServerSession.RunAsync(serverEnd, new NetconfServerOptions { Capabilities = [NetconfCapabilities.Base10] }, new InMemoryDatastore().HandleRpcAsync);
        var e = await Assert.ThrowsAsync<NetconfException>(() => NetconfClientSession.ConnectAsync(client, new NetconfClientOptions { Capabilities = [NetconfCapabilities.Base11] }).WaitAsync(Timeout));
        Assert.Equal(NetconfError.NoCommonBase, e.Error);
        Assert.Equal(NetconfError.NoCommonBase, (await Assert.ThrowsAsync<NetconfException>(() => server.WaitAsync(Timeout))).Error);
    }

    [Fact]
    public async Task A_device_rpc_error_becomes_a_typed_exception_and_the_session_goes_on()
    {
        var store = new InMemoryDatastore(DatastoreTests.Schema);
        var (_, stream) = StartServer(store);
        using var session = await NetconfClientSession.ConnectAsync(stream).WaitAsync(Timeout);
        await session.EditConfigAsync(DatastoreName.Candidate, Interface("e0", 1));
        var create = new XElement(NetconfXml.Base + "config", new XElement(T + "top",
            new XElement(T + "interface", new XAttribute(NetconfXml.Base + "operation", "create"), new XElement(T + "name", "e0"))));
        var e = await Assert.ThrowsAsync<NetconfRpcException>(() => session.EditConfigAsync(DatastoreName.Candidate, create));
        var error = Assert.Single(e.Errors);
        Assert.Equal("data-exists", error.Tag);
        Assert.Equal(RpcErrorType.Application, error.Type);
        Assert.Equal("/top/interface", error.Path);
        var unsupported = await Assert.ThrowsAsync<NetconfRpcException>(() => session.ValidateAsync(DatastoreName.Candidate));
        Assert.Equal("operation-not-supported", unsupported.Errors.Single().Tag);
        await session.CommitAsync();
        Assert.Single(store.Snapshot(DatastoreName.Running).Descendants(T + "interface"));
        stream.Dispose();
    }

    [Fact]
    public async Task A_lock_held_by_another_session_is_lock_denied_with_its_session_id()
    {
        var store = new InMemoryDatastore(DatastoreTests.Schema);
        var (_, s1) = StartServer(store, new NetconfServerOptions { SessionId = 11 });
        var (_, s2) = StartServer(store, new NetconfServerOptions { SessionId = 12 });
        using var first = await NetconfClientSession.ConnectAsync(s1).WaitAsync(Timeout);
        using var second = await NetconfClientSession.ConnectAsync(s2).WaitAsync(Timeout);
        await first.LockAsync(DatastoreName.Running);
        var e = await Assert.ThrowsAsync<NetconfRpcException>(() => second.EditConfigAsync(DatastoreName.Running, Interface("x", 1)));
        Assert.Equal("lock-denied", e.Errors.Single().Tag);
        Assert.Equal("11", e.Errors.Single().Info!.Element(NetconfXml.Base + "session-id")!.Value);
        Assert.Equal("lock-denied", (await Assert.ThrowsAsync<NetconfRpcException>(() => second.LockAsync(DatastoreName.Running))).Errors.Single().Tag);
        await first.UnlockAsync(DatastoreName.Running);
        await second.EditConfigAsync(DatastoreName.Running, Interface("x", 1));
        s1.Dispose();
        s2.Dispose();
    }

    [Fact]
    public async Task Raw_rpcs_get_our_message_id_and_their_reply_unjudged()
    {
        var store = new InMemoryDatastore(DatastoreTests.Schema);
        var (_, stream) = StartServer(store);
        using var session = await NetconfClientSession.ConnectAsync(stream).WaitAsync(Timeout);
        await session.EditConfigAsync(DatastoreName.Running, Interface("e1", 1400));
        var reply = await session.RawRpcAsync(
            "<rpc message-id=\"theirs\" xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\" xmlns:ex=\"urn:example\" ex:tag=\"kept\">" +
            "<get-config><source><running/></source></get-config></rpc>");
        Assert.NotEqual("theirs", reply.MessageId);
        Assert.Equal("kept", reply.Element.Attribute(XName.Get("tag", "urn:example"))!.Value); // §4.2: attributes echoed
        Assert.Equal("1400", reply.Data!.Descendants(T + "mtu").Single().Value);
        var bare = await session.RawRpcAsync("<kill-session xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><session-id>4</session-id></kill-session>");
        Assert.Equal("operation-not-supported", bare.Errors.Single().Tag);
        Assert.Equal(NetconfError.MalformedXml, (await Assert.ThrowsAsync<NetconfException>(() => session.RawRpcAsync("<rpc"))).Error);
        stream.Dispose();
    }

    [Fact]
    public async Task The_server_answers_malformed_messages_and_a_missing_message_id_and_goes_on()
    {
        var (client, serverEnd) = DuplexPipe.Create();
        var server = NetconfServerSession.RunAsync(serverEnd, new NetconfServerOptions { Capabilities = [NetconfCapabilities.Base10] }, new InMemoryDatastore().HandleRpcAsync);
        var raw = new NetconfTransport(client);
        await raw.WriteMessageAsync(Encoding.UTF8.GetBytes("<hello xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><capabilities><capability>urn:ietf:params:netconf:base:1.0</capability></capabilities></hello>"));
        Assert.Equal(1u, HelloMessage.Parse(NetconfXml.Parse((await raw.ReadMessageAsync())!, 1 << 20)).SessionId);

        await raw.WriteMessageAsync("<rpc><unclosed></rpc>"u8.ToArray());
        var malformed = RpcReply.Parse(NetconfXml.Parse((await raw.ReadMessageAsync())!, 1 << 20));
        Assert.Equal("malformed-message", malformed.Errors.Single().Tag);

        await raw.WriteMessageAsync("<rpc xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><get-config><source><running/></source></get-config></rpc>"u8.ToArray());
        var missing = RpcReply.Parse(NetconfXml.Parse((await raw.ReadMessageAsync())!, 1 << 20));
        Assert.Equal("missing-attribute", missing.Errors.Single().Tag);
        Assert.Equal("message-id", missing.Errors.Single().Info!.Element(NetconfXml.Base + "bad-attribute")!.Value);

        await raw.WriteMessageAsync("<rpc message-id=\"5\" xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><close-session/></rpc>"u8.ToArray());
        var closed = RpcReply.Parse(NetconfXml.Parse((await raw.ReadMessageAsync())!, 1 << 20));
        Assert.True(closed.IsOk);
        Assert.Equal("5", closed.MessageId);
        await server.WaitAsync(Timeout);
    }

    [Fact]
    public async Task A_client_hello_with_a_session_id_ends_the_server()
    {
        var (client, serverEnd) = DuplexPipe.Create();
        var server = NetconfServerSession.RunAsync(serverEnd, new NetconfServerOptions(), new InMemoryDatastore().HandleRpcAsync);
        await new NetconfTransport(client).WriteMessageAsync(NetconfXml.Serialize(new HelloMessage(new NetconfCapabilities([NetconfCapabilities.Base10]), 9).ToXml()));
        Assert.Equal(NetconfError.Protocol, (await Assert.ThrowsAsync<NetconfException>(() => server.WaitAsync(Timeout))).Error);
    }

    [Fact]
    public async Task A_server_hello_without_session_id_is_refused_by_the_client()
    {
        var (client, device) = DuplexPipe.Create();
        await new NetconfTransport(device).WriteMessageAsync(NetconfXml.Serialize(new HelloMessage(new NetconfCapabilities([NetconfCapabilities.Base10]), null).ToXml()));
        var e = await Assert.ThrowsAsync<NetconfException>(() => NetconfClientSession.ConnectAsync(client).WaitAsync(Timeout));
        Assert.Equal(NetconfError.Protocol, e.Error);
    }

    [Fact]
    public async Task The_client_skips_notifications_and_refuses_a_reply_to_another_message_id()
    {
        var (client, device) = DuplexPipe.Create();
        var fake = new NetconfTransport(device);
        var scripted = Task.Run(async () =>
        {
            await fake.WriteMessageAsync(Encoding.UTF8.GetBytes(RfcExamples.ServerHello));
            await fake.ReadMessageAsync(); // client hello
            fake.SwitchToChunked();
            var rpc = NetconfXml.Parse((await fake.ReadMessageAsync())!, 1 << 20);
            var id = rpc.Attribute("message-id")!.Value;
            await fake.WriteMessageAsync("<notification xmlns=\"urn:ietf:params:xml:ns:netconf:notification:1.0\"><eventTime>2026-01-01T00:00:00Z</eventTime></notification>"u8.ToArray());
            await fake.WriteMessageAsync(Encoding.UTF8.GetBytes($"<rpc-reply message-id=\"{id}\" xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><ok/></rpc-reply>"));
            await fake.ReadMessageAsync();
            await fake.WriteMessageAsync("<rpc-reply message-id=\"999\" xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><ok/></rpc-reply>"u8.ToArray());
            await fake.ReadMessageAsync();
            device.Dispose(); // closes without answering
        });
        using var session = await NetconfClientSession.ConnectAsync(client).WaitAsync(Timeout);
        Assert.Equal(4u, session.SessionId);
        Assert.Equal(NetconfFraming.Chunked, session.Framing); // RFC 6241's example hello offers base:1.1 only
        Assert.True((await session.CommitAsync().WaitAsync(Timeout)).IsOk);
        Assert.Equal(NetconfError.Protocol, (await Assert.ThrowsAsync<NetconfException>(() => session.CommitAsync().WaitAsync(Timeout))).Error);
        Assert.Equal(NetconfError.Closed, (await Assert.ThrowsAsync<NetconfException>(() => session.CommitAsync().WaitAsync(Timeout))).Error);
        await scripted.WaitAsync(Timeout);
    }
}
