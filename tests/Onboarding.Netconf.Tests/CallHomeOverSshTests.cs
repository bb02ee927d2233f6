using System.Net;
using System.Net.Sockets;
using System.Xml.Linq;
using Onboarding.Netconf.Datastore;
using Onboarding.Netconf.Messages;
using Onboarding.Netconf.OutboundSsh;
using Onboarding.Ssh;
using Onboarding.Ssh.Keys;

namespace Onboarding.Netconf.Tests;

/// <summary>
/// The pieces issue 13 composes, end to end over TCP loopback with our SSH library: a device dials, writes an
/// outbound-ssh preamble, then serves SSH with a "netconf" subsystem backed by the in-memory datastore; the NMS reads
/// the preamble, checks the HMAC and that SSH presents the announced host key, and configures the device.
/// </summary>
public class CallHomeOverSshTests
{
    private static readonly XNamespace T = DatastoreTests.T;
    private static readonly byte[] Secret = "s3cret-issued-at-bootstrap"u8.ToArray();

    [Fact]
    public async Task Device_calls_home_with_a_preamble_and_the_nms_configures_it_over_netconf()
    {
        var hostKey = SshHostKey.GenerateEd25519();
        var store = new InMemoryDatastore(DatastoreTests.Schema);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var deviceSocket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var accept = listener.AcceptSocketAsync();
        await deviceSocket.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        using var nmsSocket = await accept;

        // The device: preamble first, then the SSH server on the same connection.
        var device = Task.Run(async () =>
        {
            var stream = new NetworkStream(deviceSocket);
            var preamble = OutboundSshPreamble.WithHostKey("rtr-42", hostKey.PublicKey.ToAuthorizedKeysLine(), Secret);
            await stream.WriteAsync(preamble.Encode());
            var server = await SshServerSession.AcceptAsync(stream, new SshServerOptions
            {
                HostKeys = [hostKey],
                PasswordAuthenticator = (r, _) => ValueTask.FromResult(r.UserName == "nms" && r.Password == "pw"),
                ChannelRequestHandler = (request, ct) =>
                {
                    if (request.RequestType != "subsystem" || request.Subsystem != "netconf")
                        return ValueTask.FromResult(false);
                    _ = Task.Run(async () =>
                    {
                        await request.ReplySent;
                        await using var channel = request.Channel.AsStream();
                        await NetconfServerSession.RunAsync(channel, new NetconfServerOptions { SessionId = 5 }, store.HandleRpcAsync);
                        await request.Channel.CloseAsync();
                    }, CancellationToken.None);
                    return ValueTask.FromResult(true);
                },
            });
            await server.Completion;
        });

        // The NMS: detect and read the preamble, verify it, then SSH over the rest of the bytes.
        var nmsStream = new NetworkStream(nmsSocket);
        var reader = new OutboundSshPreambleReader();
        var buffer = new byte[512];
        var first = true;
        PreambleStatus status;
        do
        {
            var n = await nmsStream.ReadAsync(buffer);
            Assert.True(n > 0);
            if (first)
                Assert.NotEqual(PreambleDetection.NotPreamble, OutboundSshPreambleReader.Detect(buffer.AsSpan(0, n)));
            first = false;
            status = reader.Feed(buffer.AsSpan(0, n));
        }
        while (status == PreambleStatus.NeedMore);
        var announced = reader.Preamble!;
        Assert.Equal("rtr-42", announced.DeviceId);
        Assert.True(announced.VerifyHmac(Secret));
        var announcedKey = SshPublicKey.Parse(announced.HostKeyBlob());

        await using var ssh = await SshClientSession.ConnectAsync(new PrefixedStream(reader.Remainder, nmsStream), new SshClientOptions
        {
            UserName = "nms",
            Password = "pw",
            HostKeyVerifier = (context, _) => ValueTask.FromResult(context.HostKey.Equals(announcedKey)),
        });
        var channel = await ssh.OpenSessionAsync();
        Assert.True(await channel.RequestSubsystemAsync("netconf"));
        using var netconf = await NetconfClientSession.ConnectAsync(channel.AsStream());
        Assert.Equal(Framing.NetconfFraming.Chunked, netconf.Framing);
        Assert.True(netconf.ServerCapabilities.HasCandidate);

        var config = new XElement(T + "top", new XElement(T + "interface", new XElement(T + "name", "ge-0/0/0"), new XElement(T + "mtu", 9192)));
        await netconf.EditConfigAsync(DatastoreName.Candidate, config);
        await netconf.CommitAsync();
        var data = await netconf.GetConfigAsync(DatastoreName.Running);
        Assert.Equal("9192", data.Descendants(T + "mtu").Single().Value);
        Assert.True((await netconf.CloseSessionAsync()).IsOk);
        Assert.Equal("9192", store.Snapshot(DatastoreName.Running).Descendants(T + "mtu").Single().Value);
    }
}
