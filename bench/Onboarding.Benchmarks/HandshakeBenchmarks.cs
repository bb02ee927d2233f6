using BenchmarkDotNet.Attributes;
using Onboarding.Bench.Harness;
using Onboarding.Ssh;
using Onboarding.Ssh.Keys;
using Org.BouncyCastle.Crypto.Agreement;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Security;

namespace Onboarding.Benchmarks;

/// <summary>
/// Handshake CPU: one complete curve25519-sha256 + ssh-ed25519 key exchange plus public-key
/// (ed25519) user authentication, client and server in this process over loopback TCP, so the op
/// counts both roles. The crypto floor of that op is 2 X25519 key pairs + 2 agreements, and 2 Ed25519
/// signatures + 2 verifications (host key, user key). The baseline is one raw BouncyCastle
/// X25519 key generation + agreement; the floor row shows the whole crypto budget of a handshake.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(iterationCount: 5, warmupCount: 2)]
public class HandshakeBenchmarks
{
    private readonly SecureRandom _random = new();
    private X25519PublicKeyParameters? _peerPublic;
    private Ed25519PrivateKeyParameters? _signingKey;
    private readonly byte[] _exchangeHash = new byte[32];
    private SshHostKey? _hostKey;
    private SshHostKey? _clientKey;
    private SshServerOptions? _serverOptions;
    private SshClientOptions? _clientOptions;

    [GlobalSetup]
    public void Setup()
    {
        var generator = new X25519KeyPairGenerator();
        generator.Init(new X25519KeyGenerationParameters(_random));
        _peerPublic = (X25519PublicKeyParameters)generator.GenerateKeyPair().Public;
        _signingKey = new Ed25519PrivateKeyParameters(_random);
        _random.NextBytes(_exchangeHash);
        _hostKey = SshHostKey.GenerateEd25519();
        _clientKey = SshHostKey.GenerateEd25519();
        _serverOptions = Loopback.ServerOptions(_hostKey, _clientKey, (r, ct) => ValueTask.FromResult(false));
        _clientOptions = Loopback.ClientOptions(_clientKey, "bench", _hostKey.PublicKey.Fingerprint);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _hostKey!.Dispose();
        _clientKey!.Dispose();
    }

    [Benchmark(Baseline = true, Description = "raw BouncyCastle X25519 keygen + agreement")]
    public byte[] RawX25519()
    {
        var generator = new X25519KeyPairGenerator();
        generator.Init(new X25519KeyGenerationParameters(_random));
        var pair = generator.GenerateKeyPair();
        var agreement = new X25519Agreement();
        agreement.Init(pair.Private);
        var secret = new byte[agreement.AgreementSize];
        agreement.CalculateAgreement(_peerPublic, secret, 0);
        return secret;
    }

    [Benchmark(Description = "crypto floor: 2×X25519 + 2×Ed25519 sign + 2×verify")]
    public bool RawHandshakeCrypto()
    {
        RawX25519();
        RawX25519();
        var ok = true;
        for (var i = 0; i < 2; i++)
        {
            var signer = new Ed25519Signer();
            signer.Init(true, _signingKey);
            signer.BlockUpdate(_exchangeHash, 0, _exchangeHash.Length);
            var signature = signer.GenerateSignature();
            var verifier = new Ed25519Signer();
            verifier.Init(false, _signingKey!.GeneratePublicKey());
            verifier.BlockUpdate(_exchangeHash, 0, _exchangeHash.Length);
            ok &= verifier.VerifySignature(signature);
        }
        return ok;
    }

    [Benchmark(Description = "our client+server handshake + publickey auth (loopback TCP)")]
    public async Task OurHandshake()
    {
        var (c, s) = await Loopback.CreatePairAsync();
        var server = SshServerSession.AcceptAsync(s, _serverOptions!);
        await using var client = await SshClientSession.ConnectAsync(c, _clientOptions!);
        await using var session = await server;
    }
}
