using System.Diagnostics;
using Onboarding.Bench.Harness;
using Onboarding.Ssh.Keys;

namespace Onboarding.LoadTest;

/// <summary>
/// Many small uploads over one session against our in-process SftpServer whose CLOSE takes a fixed
/// time (standing in for the drop's database commit). If the server overlapped CLOSEs of different
/// files, files/s would grow with --parallel; the table shows whether it does. Baseline: --parallel 1.
/// </summary>
internal static class SftpFilesTest
{
    public static async Task<int> RunAsync(int files, int closeDelayMs, IReadOnlyList<int> parallels, CancellationToken cancellationToken)
    {
        Report.Header($"sftp-files files={files} close-delay={closeDelayMs} ms parallel={string.Join(',', parallels)}");
        using var hostKey = SshHostKey.GenerateEd25519();
        using var clientKey = SshHostKey.GenerateEd25519();
        var handler = new DrainSftpHandler { CloseDelay = TimeSpan.FromMilliseconds(closeDelayMs) };
        var options = Loopback.ServerOptions(hostKey, clientKey, OurSftp.Subsystem(handler));
        await using var server = new OurSshServer(options);
        var rows = new List<Measurement>();
        var content = new byte[1024];
        var scenario = $"{files} × 1 KiB files, CLOSE takes {closeDelayMs} ms";
        foreach (var parallel in parallels)
        {
            await using var session = await OurSftp.ConnectAsync(server.Port, Loopback.ClientOptions(clientKey, "bench", hostKey.PublicKey.Fingerprint), cancellationToken);
            var sftp = session.Client;
            var next = -1;
            var watch = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, parallel).Select(async _ =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < files)
                    await sftp.UploadAsync($"/f{i}", new MemoryStream(content, writable: false), cancellationToken);
            }));
            watch.Stop();
            rows.Add(new Measurement(scenario, "ours (SftpServer, delayed CLOSE)", $"ours, {parallel} in flight", files / watch.Elapsed.TotalSeconds, "files/s",
                $"ideal {Math.Min(parallel, files) * 1000.0 / Math.Max(1, closeDelayMs):0} files/s if CLOSEs overlapped; {watch.Elapsed.TotalSeconds:0.00} s"));
        }
        Report.Print("sftp-files", rows, r => r.Client == $"ours, {parallels[0]} in flight", "files/s should scale with files in flight");
        return 0;
    }
}
