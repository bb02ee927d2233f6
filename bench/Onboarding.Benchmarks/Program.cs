using BenchmarkDotNet.Running;
using Onboarding.Benchmarks;

// `dotnet run -c Release -- --filter '*'` runs everything; `--filter '*Cipher*'` one class.
// `--check` runs each stateful benchmark once and verifies it really did the work (no BenchmarkDotNet).
if (args is ["--check"])
{
    var sftp = new SftpWriteDecodeBenchmarks();
    sftp.Setup();
    var bytes = await sftp.RunOnceAsync();
    Console.WriteLine($"SftpServer consumed {bytes} bytes of WRITE data (expected {256 * 32 * 1024})");
    var cipher = new PacketCipherBenchmarks { Cipher = Onboarding.Ssh.SshAlgorithms.ChaCha20Poly1305 };
    await cipher.SetupAsync();
    await cipher.SshChannelPacket().WaitAsync(TimeSpan.FromSeconds(30));
    await cipher.CleanupAsync();
    Console.WriteLine("SSH channel batch drained");
    var handshake = new HandshakeBenchmarks();
    handshake.Setup();
    await handshake.OurHandshake().WaitAsync(TimeSpan.FromSeconds(30));
    Console.WriteLine($"handshake ok, crypto floor verifies: {handshake.RawHandshakeCrypto()}");
    handshake.Cleanup();
    var telemetry = new TelemetryParseBenchmarks();
    Console.WriteLine($"telemetry parsers agree: {telemetry.Agree()}");
    return bytes == 256 * 32 * 1024 && telemetry.Agree() ? 0 : 1;
}

BenchmarkSwitcher.FromAssembly(typeof(PacketCipherBenchmarks).Assembly).Run(args);
return 0;
