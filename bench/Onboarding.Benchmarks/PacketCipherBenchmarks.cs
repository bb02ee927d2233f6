using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Onboarding.Bench.Harness;
using Onboarding.Ssh;
using Onboarding.Ssh.Connection;
using Onboarding.Ssh.Keys;

namespace Onboarding.Benchmarks;

/// <summary>
/// Cost of protecting one 32 KiB SSH_MSG_CHANNEL_DATA packet per cipher. The packet ciphers are
/// internal to Onboarding.Ssh, so they are driven through a real client/server pair on loopback TCP:
/// each op is one 32 KiB packet sealed by the client and opened by the server (plus framing,
/// channel window accounting and the socket copies). The baseline is raw .NET AesGcm seal + open
/// of the same 32 KiB, i.e. the floor an AES-GCM transport could reach.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(iterationCount: 5, warmupCount: 2)]
#pragma warning disable CA1001 // BenchmarkDotNet owns the lifetime: [GlobalCleanup] disposes what [GlobalSetup] created.
public class PacketCipherBenchmarks
#pragma warning restore CA1001
{
    private const int PacketBytes = 32 * 1024;
    private const int PacketsPerInvoke = 64;

    private readonly byte[] _payload = RandomNumberGenerator.GetBytes(PacketBytes);
    private readonly byte[] _cipherText = new byte[PacketBytes];
    private readonly byte[] _plainText = new byte[PacketBytes];
    private readonly byte[] _tag = new byte[16];
    private readonly byte[] _nonce = new byte[12];
    private AesGcm? _aesGcm;
    private ChaCha20Poly1305? _chaCha;

    private SshHostKey? _hostKey;
    private SshHostKey? _clientKey;
    private SshClientSession? _client;
    private SshServerSession? _server;
    private SshChannel? _channel;
    private SemaphoreSlim? _megabyteDrained;
    private long _received;

    [Params(SshAlgorithms.ChaCha20Poly1305, SshAlgorithms.Aes128Gcm, SshAlgorithms.Aes256Ctr)]
    public string Cipher { get; set; } = SshAlgorithms.Aes128Gcm;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _aesGcm = new AesGcm(RandomNumberGenerator.GetBytes(16), 16);
        _chaCha = new ChaCha20Poly1305(RandomNumberGenerator.GetBytes(32));
        _hostKey = SshHostKey.GenerateEd25519();
        _clientKey = SshHostKey.GenerateEd25519();
        _megabyteDrained = new SemaphoreSlim(0);
        const long batch = (long)PacketBytes * PacketsPerInvoke;
        var options = Loopback.ServerOptions(_hostKey, _clientKey, (r, ct) => Loopback.SinkExec(r, ct, n =>
        {
            var before = Interlocked.Add(ref _received, n) - n;
            for (var k = before / batch + 1; k <= (before + n) / batch; k++)
                _megabyteDrained.Release();
        }));
        var (c, s) = await Loopback.CreatePairAsync();
        var server = SshServerSession.AcceptAsync(s, options);
        _client = await SshClientSession.ConnectAsync(c, Loopback.ClientOptions(_clientKey, "bench", _hostKey.PublicKey.Fingerprint, Cipher));
        _server = await server;
        _channel = await _client.OpenSessionAsync();
        if (!await _channel.ExecAsync("sink"))
            throw new InvalidOperationException("sink refused");
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _client!.DisposeAsync();
        await _server!.DisposeAsync();
        _hostKey!.Dispose();
        _clientKey!.Dispose();
        _aesGcm!.Dispose();
        _chaCha!.Dispose();
        _megabyteDrained!.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = PacketsPerInvoke, Description = "raw .NET AesGcm seal+open 32 KiB")]
    public void RawAesGcm()
    {
        for (var i = 0; i < PacketsPerInvoke; i++)
        {
            _nonce[11] = (byte)i;
            _aesGcm!.Encrypt(_nonce, _payload, _cipherText, _tag);
            _aesGcm.Decrypt(_nonce, _cipherText, _tag, _plainText);
        }
    }

    // What OpenSSH's chacha20-poly1305 costs at most: the same libcrypto ChaCha20 keystream and a Poly1305 pass
    // (OpenSSH computes the tag with its own Poly1305 over the same bytes), without framing or sockets.
    [Benchmark(OperationsPerInvoke = PacketsPerInvoke, Description = "raw .NET (OpenSSL) ChaCha20Poly1305 seal+open 32 KiB")]
    public void RawChaCha20Poly1305()
    {
        for (var i = 0; i < PacketsPerInvoke; i++)
        {
            _nonce[11] = (byte)i;
            _chaCha!.Encrypt(_nonce, _payload, _cipherText, _tag);
            _chaCha.Decrypt(_nonce, _cipherText, _tag, _plainText);
        }
    }

    [Benchmark(OperationsPerInvoke = PacketsPerInvoke, Description = "our SSH channel 32 KiB packet (client seal + server open)")]
    public async Task SshChannelPacket()
    {
        for (var i = 0; i < PacketsPerInvoke; i++)
            await _channel!.WriteAsync(_payload);
        await _megabyteDrained!.WaitAsync();
    }
}
