using System.Diagnostics;
using Onboarding.Ssh;
using Onboarding.Ssh.Connection;
using Onboarding.Ssh.Keys;
using Onboarding.Bench.Harness;

namespace Onboarding.LoadTest;

/// <summary>
/// Completed SSH connections per second: TCP connect, curve25519 + ed25519 key exchange, ed25519
/// public-key auth, open session, exec "true", wait for exit-status and close. Our client every
/// time; only the server differs (our SshServerSession in this process vs OpenSSH sshd).
/// </summary>
internal static class SshHandshakeTest
{
    public static async Task<int> RunAsync(int clients, int seconds, bool exec, CancellationToken cancellationToken)
    {
        Report.Header($"ssh-handshakes clients={clients} seconds={seconds} exec={exec}");
        using var hostKey = SshHostKey.GenerateEd25519();
        using var clientKey = SshHostKey.GenerateEd25519();
        var rows = new List<Measurement>();
        var scenario = $"{clients} client(s), {seconds}s, " + (exec ? "handshake+auth+exec true+close" : "handshake+auth+disconnect");

        var options = Loopback.ServerOptions(hostKey, clientKey, ExecTrue);
        await using (var ours = new OurSshServer(options))
        {
            var (rate, p50, p99, errors) = await DriveAsync(ours.Port, Environment.UserName, clients, seconds, exec, hostKey, clientKey, cancellationToken);
            rows.Add(new Measurement(scenario, "ours (SshServerSession, in-process)", "ours", rate, "conn/s", $"p50 {p50:0.0} ms, p99 {p99:0.0} ms, errors {errors + ours.Failures}"));
        }

        await using (var sshd = await OpenSshServer.StartAsync(hostKey, clientKey))
        {
            var (rate, p50, p99, errors) = await DriveAsync(sshd.Port, Environment.UserName, clients, seconds, exec, hostKey, clientKey, cancellationToken);
            rows.Add(new Measurement(scenario, exec ? "OpenSSH sshd (forks, runs `true` via shell)" : "OpenSSH sshd (forks per connection)", "ours", rate, "conn/s", $"p50 {p50:0.0} ms, p99 {p99:0.0} ms, errors {errors}"));
        }

        Report.Print("ssh-handshakes", rows, r => r.Server.StartsWith("OpenSSH", StringComparison.Ordinal), "ours ≥ 1.5× sshd");
        return 0;
    }

    private static ValueTask<bool> ExecTrue(SshChannelRequest request, CancellationToken cancellationToken)
    {
        if (request.RequestType != "exec")
            return ValueTask.FromResult(false);
        _ = Task.Run(async () =>
        {
            await request.Channel.SendExitStatusAsync(0);
            await request.Channel.CloseAsync();
        }, CancellationToken.None);
        return ValueTask.FromResult(true);
    }

    private static async Task<(double Rate, double P50, double P99, long Errors)> DriveAsync(
        int port, string user, int clients, int seconds, bool exec, SshHostKey hostKey, SshHostKey clientKey, CancellationToken cancellationToken)
    {
        var clientOptions = Loopback.ClientOptions(clientKey, user, hostKey.PublicKey.Fingerprint);
        // One warm-up connection so JIT and the first sshd fork do not count.
        await OneAsync(port, clientOptions, exec, cancellationToken);
        var latencies = new List<double>[clients];
        long errors = 0;
        var deadline = Stopwatch.StartNew();
        var limit = TimeSpan.FromSeconds(seconds);
        var workers = Enumerable.Range(0, clients).Select(i => Task.Run(async () =>
        {
            var mine = latencies[i] = [];
            while (deadline.Elapsed < limit && !cancellationToken.IsCancellationRequested)
            {
                var start = Stopwatch.GetTimestamp();
                try
                {
                    await OneAsync(port, clientOptions, exec, cancellationToken).WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
                    mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Interlocked.Increment(ref errors);
                    if (Interlocked.Read(ref errors) == 1)
                        await Console.Error.WriteLineAsync("first error: " + ex.Message);
                }
            }
        }, cancellationToken)).ToArray();
        await Task.WhenAll(workers);
        var elapsed = deadline.Elapsed.TotalSeconds;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        if (all.Length == 0)
            return (0, 0, 0, errors);
        return (all.Length / elapsed, all[all.Length / 2], all[Math.Min(all.Length - 1, (int)(all.Length * 0.99))], errors);
    }

    private static async Task OneAsync(int port, SshClientOptions options, bool exec, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var stream = await Loopback.ConnectAsync(port, cancellationToken);
        await using var client = await SshClientSession.ConnectAsync(stream, options, cancellationToken);
        if (Environment.GetEnvironmentVariable("BENCH_TRACE") == "1")
            Console.Error.WriteLine($"handshake+auth {Stopwatch.GetElapsedTime(start).TotalMilliseconds:0.0} ms");
        if (!exec)
            return;
        var channel = await client.OpenSessionAsync(cancellationToken);
        if (!await channel.ExecAsync("true", cancellationToken))
            throw new InvalidOperationException("exec refused");
        await channel.SendEofAsync(cancellationToken);
        var status = await channel.ExitStatus;
        if (status != 0)
            throw new InvalidOperationException($"exit status {status}");
        await channel.Completion;
        if (Environment.GetEnvironmentVariable("BENCH_TRACE") == "1")
            Console.Error.WriteLine($"  + exec/close {Stopwatch.GetElapsedTime(start).TotalMilliseconds:0.0} ms");
    }
}
