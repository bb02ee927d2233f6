using System.Diagnostics;
using Onboarding.Ssh.Transport;
using Xunit.Abstractions;

namespace Onboarding.Ssh.Tests;

/// <summary>Sealing throughput per cipher (DESIGN.md asks to measure chacha20 vs AES-GCM). Numbers only; no thresholds.</summary>
[Trait("Category", "Perf")]
public class CipherThroughputTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(SshAlgorithms.ChaCha20Poly1305, SshAlgorithms.HmacSha256Etm)]
    [InlineData(SshAlgorithms.Aes128Gcm, SshAlgorithms.HmacSha256Etm)]
    [InlineData(SshAlgorithms.Aes128Ctr, SshAlgorithms.HmacSha256Etm)]
    public void Seal_and_open_32_KiB_packets(string cipher, string mac)
    {
        var key = new byte[PacketCipherFactory.KeyLength(cipher)];
        var iv = new byte[PacketCipherFactory.IvLength(cipher)];
        var macKey = new byte[PacketCipherFactory.MacKeyLength(cipher, mac)];
        using var sealer = PacketCipherFactory.Create(cipher, mac, key, iv, macKey);
        using var opener = PacketCipherFactory.Create(cipher, mac, key, iv, macKey);
        var payload = new byte[32 * 1024];
        const int packets = 1024; // 32 MiB
        uint seq = 0;
        void Run()
        {
            for (var i = 0; i < packets; i++, seq++)
            {
                var packet = BinaryPacketStream.BuildPacket(sealer, seq, payload);
                var length = packet.Length - sealer.TagLength;
                opener.Open(seq, packet.AsSpan(0, length), packet.AsSpan(length));
            }
        }
        Run(); // warm-up: let tiered JIT optimise the managed loops
        var sw = Stopwatch.StartNew();
        Run();
        sw.Stop();
        output.WriteLine($"{cipher}: {packets * payload.Length / 1048576.0 / sw.Elapsed.TotalSeconds:F0} MiB/s seal+open");
    }
}

/// <summary>End-to-end throughput of one channel over loopback TCP (numbers only; the machine may be loaded).</summary>
[Trait("Category", "Perf")]
public class SessionThroughputTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(SshAlgorithms.Aes128Gcm)]
    [InlineData(SshAlgorithms.ChaCha20Poly1305)]
    public async Task Upload_32_MiB(string cipher)
    {
        const int total = 32 * 1024 * 1024;
        var done = new TaskCompletionSource<long>();
        var serverOptions = new SshServerOptions
        {
            HostKeys = [SessionPair.HostKeyFor(SshAlgorithms.Ed25519)],
            PasswordAuthenticator = (_, _) => ValueTask.FromResult(true),
            Ciphers = SshAlgorithms.AllCiphers,
            ChannelRequestHandler = (req, ct) =>
            {
                _ = Task.Run(async () =>
                {
                    await req.ReplySent;
                    var buffer = new byte[256 * 1024];
                    long count = 0;
                    int n;
                    while ((n = await req.Channel.ReadAsync(buffer)) > 0)
                        count += n;
                    done.SetResult(count);
                    await req.Channel.CloseAsync();
                }, CancellationToken.None);
                return ValueTask.FromResult(true);
            },
        };
        var clientOptions = new SshClientOptions
        {
            UserName = "u",
            Password = "p",
            HostKeyVerifier = (_, _) => ValueTask.FromResult(true),
            Ciphers = [cipher],
        };
        var (client, server) = await SessionPair.ConnectAsync(serverOptions, clientOptions);
        await using (client)
        await using (server)
        {
            var channel = await client.OpenSessionAsync();
            Assert.True(await channel.ExecAsync("sink"));
            var data = new byte[256 * 1024];
            var sw = Stopwatch.StartNew();
            for (var i = 0; i < total / data.Length; i++)
                await channel.WriteAsync(data);
            await channel.SendEofAsync();
            Assert.Equal(total, await done.Task.WaitAsync(TimeSpan.FromSeconds(120)));
            sw.Stop();
            output.WriteLine($"{cipher}: {total / 1048576.0 / sw.Elapsed.TotalSeconds:F0} MiB/s end to end");
        }
    }
}
