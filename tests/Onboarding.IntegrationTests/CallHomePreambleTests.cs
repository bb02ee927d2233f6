using System.Net.Sockets;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.Ssh;
using Onboarding.Ssh.Keys;

namespace Onboarding.IntegrationTests;

/// <summary>A host whose call-home listener gives a preamble 2 s, so the slow-preamble test does not wait long.</summary>
public sealed class QuickPreambleCallHomeFactory : CallHomeFactory
{
    public QuickPreambleCallHomeFactory()
    {
        With("Nms:CallHome:PreambleTimeout", "00:00:02");
        // A peer that is not SSH at all is given up on after the handshake timeout. Not shorter: the first handshake of
        // a cold host also builds its EF models in the host-key check, which took over 10 s on a loaded machine.
        With("Nms:CallHome:HandshakeTimeout", "00:00:30");
    }
}

/// <summary>
/// What an unauthenticated peer can send the call-home port before SSH: a garbled, oversized or never-ending
/// outbound-ssh preamble, or something that is not SSH at all. Each is refused and logged with its connection id, and
/// the listener goes on to run a full SSH handshake with the next peer.
/// </summary>
public class CallHomePreambleTests(QuickPreambleCallHomeFactory factory) : CallHomeRig(factory), IClassFixture<QuickPreambleCallHomeFactory>
{
    [Fact]
    public async Task Garbage_oversized_and_slow_preambles_are_refused_and_logged_and_the_listener_serves_the_next_peer()
    {
        var garbled = await SendAsync("MSG-ID: DEVICE-CONN-INFO\r\nMSG-VER: V1\r\n\u0001\u0002\u0003 binary\r\n"u8.ToArray());
        var oversized = await SendAsync([.. "MSG-ID: DEVICE-CONN-INFO\r\nDEVICE-ID: "u8.ToArray(), .. Enumerable.Repeat((byte)'A', 8000)]);
        var slow = await SendAsync("MSG-ID: DEVICE-CONN-INFO\r\nMSG-VER: V1\r\n"u8.ToArray());
        var notSsh = await SendAsync("GET / HTTP/1.1\r\nHost: nms\r\n\r\n"u8.ToArray());

        // The listener closed each connection (the reads end), and said why.
        Assert.All(new[] { garbled, oversized, slow, notSsh }, closed => Assert.True(closed));
        Assert.Contains("byte 0x01 in a preamble line", await WaitForLogAsync("refused before SSH (connection"), StringComparison.Ordinal);
        await WaitForLogAsync("outbound-ssh preamble longer than 4096 bytes");
        await WaitForLogAsync("no SSH identification or complete outbound-ssh preamble within 2 s");
        await WaitForLogAsync("failed in the SSH handshake");

        // Still serving: a full SSH handshake with the next peer (our SSH server as a device nobody knows) reaches the
        // host-key check, which refuses the unknown key.
        using var key = SshHostKey.GenerateEd25519();
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("127.0.0.1", Factory.CallHomePort);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var serve = SshServerSession.AcceptAsync(stream, new SshServerOptions { HostKeys = [key] });
        await Assert.ThrowsAnyAsync<Exception>(() => serve.WaitAsync(TimeSpan.FromSeconds(90)));
        Assert.Contains(key.PublicKey.Fingerprint, await WaitForLogAsync("Call home refused (unknown-key)"), StringComparison.Ordinal);
    }

    /// <summary>Connects, writes <paramref name="bytes"/>, and reports whether the listener then closed the connection.</summary>
    private async Task<bool> SendAsync(byte[] bytes)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", Factory.CallHomePort);
        var stream = client.GetStream();
        try
        {
            await stream.WriteAsync(bytes);
            var buffer = new byte[4096];
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            // Our SSH client answers a non-SSH peer with its identification string before giving up; read until the close.
            while (await stream.ReadAsync(buffer, bound.Token) > 0)
            {
            }

            return true;
        }
        catch (IOException)
        {
            // A reset is a close too (the listener closed with our bytes unread).
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
