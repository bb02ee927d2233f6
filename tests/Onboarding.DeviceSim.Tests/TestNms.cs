using System.Net;
using System.Net.Sockets;
using Onboarding.Netconf.OutboundSsh;
using Onboarding.Ssh;
using Onboarding.Ssh.Keys;

namespace Onboarding.DeviceSim.Tests;

/// <summary>
/// The NMS side of call home, in the test: a TCP listener on a free loopback port; each accepted connection may start
/// with an outbound-ssh preamble (read with our reader), after which the NMS is the SSH client on the accepted socket.
/// </summary>
internal sealed class TestNms : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

    public TestNms()
    {
        _listener.Start();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public async Task<Socket> AcceptAsync(CancellationToken cancellationToken = default) => await _listener.AcceptSocketAsync(cancellationToken);

    /// <summary>Reads the DEVICE-CONN-INFO preamble; returns it and the stream to run SSH over (the bytes read past it replayed).</summary>
    public static async Task<(OutboundSshPreamble Preamble, Stream Ssh)> ReadPreambleAsync(Socket socket)
    {
        var stream = new NetworkStream(socket, ownsSocket: true);
        var reader = new OutboundSshPreambleReader();
        var buffer = new byte[1024];
        var first = true;
        PreambleStatus status;
        do
        {
            var n = await stream.ReadAsync(buffer);
            Assert.True(n > 0, "the device closed before its preamble ended");
            if (first)
                Assert.NotEqual(PreambleDetection.NotPreamble, OutboundSshPreambleReader.Detect(buffer.AsSpan(0, n)));
            first = false;
            status = reader.Feed(buffer.AsSpan(0, n));
            // The 3-line form ends where the device's SSH identification begins; it does not wait for ours (RFC 4253 §4.2).
        }
        while (status == PreambleStatus.NeedMore);
        Assert.Equal(PreambleStatus.Done, status);
        return (reader.Preamble!, new PrefixedStream(reader.Remainder, stream));
    }

    public static Task<SshClientSession> ConnectSshAsync(Stream stream, SshHostKey clientKey, Func<SshHostKeyContext, bool> verifier, string user = SimulatedFleet.NmsUser) =>
        SshClientSession.ConnectAsync(stream, new SshClientOptions
        {
            UserName = user,
            ClientKey = clientKey,
            HostKeyVerifier = (context, _) => ValueTask.FromResult(verifier(context)),
        }, new IPEndPoint(IPAddress.Loopback, 0));

    public void Dispose() => _listener.Stop();
}
