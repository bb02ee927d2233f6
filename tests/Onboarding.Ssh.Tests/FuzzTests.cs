using Onboarding.Ssh.Auth;
using Onboarding.Ssh.KeyExchange;
using Onboarding.Ssh.Transport;
using Onboarding.Ssh.Wire;

namespace Onboarding.Ssh.Tests;

/// <summary>Mutated inputs must always end in a typed error (never another exception type, never a hang).</summary>
public class FuzzTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private static bool IsTyped(Exception e) => e is SshProtocolException or SshConnectionLostException;

    [Fact]
    public async Task Mutated_kexinit_packets_give_typed_errors()
    {
        var options = SessionPair.ServerOptions(SessionPair.HostKeyFor(SshAlgorithms.Ed25519));
        using var w = new SshWriter();
        new KexInitMessage
        {
            KexAlgorithms = [SshAlgorithms.Curve25519Sha256, SshTransport.StrictKexClient],
            ServerHostKeyAlgorithms = [SshAlgorithms.Ed25519],
            EncryptionClientToServer = [SshAlgorithms.Aes128Gcm],
            EncryptionServerToClient = [SshAlgorithms.Aes128Gcm],
            MacClientToServer = [SshAlgorithms.HmacSha256Etm],
            MacServerToClient = [SshAlgorithms.HmacSha256Etm],
        }.Write(w);
        var valid = w.ToArray();
        var random = new Random(4253);
        for (var i = 0; i < 60; i++)
        {
            var payload = valid.ToArray();
            var flips = random.Next(1, 6);
            for (var f = 0; f < flips; f++)
                payload[random.Next(17, payload.Length)] = (byte)random.Next(256);
            if (random.Next(4) == 0)
                payload = payload[..random.Next(1, payload.Length)];
            var (c, s) = await LoopbackPair.CreateAsync();
            var server = SshServerSession.AcceptAsync(s, options);
            var raw = new BinaryPacketStream(c);
            await raw.WriteLineAsync("SSH-2.0-Fuzz", default);
            await raw.WritePacketAsync(payload, default);
            // Send a plausible ECDH init too, so mutations that still negotiate go a step further.
            await raw.WritePacketAsync((byte[])[30, 0, 0, 0, 32, .. new byte[32]], default);
            var e = await Record.ExceptionAsync(() => server.WaitAsync(Timeout));
            await c.DisposeAsync();
            Assert.NotNull(e);
            Assert.True(IsTyped(e), $"iteration {i}: {e}");
        }
    }

    [Fact]
    public async Task Random_connection_layer_messages_after_auth_give_typed_errors()
    {
        var options = SessionPair.ServerOptions(SessionPair.HostKeyFor(SshAlgorithms.Ed25519));
        var random = new Random(4254);
        for (var i = 0; i < 40; i++)
        {
            var (c, s) = await LoopbackPair.CreateAsync();
            var serverTask = SshServerSession.AcceptAsync(s, options);
            await using var raw = new SshTransport(c, new TransportSettings
            {
                IsServer = false,
                Version = "SSH-2.0-Fuzz",
                KeyExchange = [SshAlgorithms.Curve25519Sha256],
                Ciphers = [SshAlgorithms.Aes128Gcm],
                Macs = SshAlgorithms.Macs,
                HostKeyAlgorithms = SshAlgorithms.ClientHostKeys,
                HostKeyVerifier = (_, _) => ValueTask.FromResult(true),
            });
            await raw.StartAsync(default).WaitAsync(Timeout);
            using (var w = new SshWriter())
            {
                new ServiceRequestMessage(5, "ssh-userauth").Write(w);
                await raw.SendAsync(w, default);
            }
            await raw.ReceiveAsync(default);
            using (var w = new SshWriter())
            {
                new UserAuthRequestMessage { UserName = "alice", ServiceName = "ssh-connection", Method = "password", Password = "secret" }.Write(w);
                await raw.SendAsync(w, default);
            }
            Assert.Equal(52, (await raw.ReceiveAsync(default).AsTask().WaitAsync(Timeout))[0]);
            await using var session = await serverTask.WaitAsync(Timeout);
            // Open a real channel first so channel messages for id 0 reach channel code.
            await raw.SendAsync((byte[])[90, 0, 0, 0, 7, .. "session"u8, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 128, 0], default);
            for (var m = 0; m < 20; m++)
            {
                var body = new byte[random.Next(0, 40)];
                random.NextBytes(body);
                if (body.Length >= 4 && random.Next(2) == 0)
                    body[0] = body[1] = body[2] = 0; // small lengths / channel ids
                try
                {
                    await raw.SendAsync((byte[])[(byte)random.Next(80, 101), .. body], default);
                }
                catch (SshConnectionLostException)
                {
                    break;
                }
            }
            await raw.CloseAsync(SshDisconnectReason.ByApplication, "done");
            var e = await Record.ExceptionAsync(() => session.Completion.WaitAsync(Timeout));
            Assert.True(e is null || e is SshProtocolException, $"iteration {i}: {e}");
        }
    }
}
