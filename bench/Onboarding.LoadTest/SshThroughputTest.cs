using System.Diagnostics;
using System.Globalization;
using Onboarding.Bench.Harness;
using Onboarding.Ssh;
using Onboarding.Ssh.Keys;

namespace Onboarding.LoadTest;

/// <summary>
/// Bulk channel throughput: N MiB of stdin into `cat &gt; /dev/null` (sshd) or a draining exec
/// handler (ours), per cipher. Our client against both servers; OpenSSH's ssh client against both
/// as a reference.
/// </summary>
internal static class SshThroughputTest
{
    private const int WriteSize = 256 * 1024;

    public static async Task<int> RunAsync(int megabytes, IReadOnlyList<string> ciphers, bool openSshClient, int rekeyMegabytes, CancellationToken cancellationToken)
    {
        Report.Header($"ssh-throughput megabytes={megabytes} ciphers={string.Join(',', ciphers)} rekey={rekeyMegabytes} MiB (ours, both sides)");
        var rekeyBytes = (long)rekeyMegabytes * 1024 * 1024;
        using var hostKey = SshHostKey.GenerateEd25519();
        using var clientKey = SshHostKey.GenerateEd25519();
        using var ssh = new OpenSshClient(clientKey);
        var bytes = (long)megabytes * 1024 * 1024;
        var rows = new List<Measurement>();
        long drained = 0;
        var options = Loopback.ServerOptions(hostKey, clientKey, (r, ct) => Loopback.SinkExec(r, ct, n => Interlocked.Add(ref drained, n)), rekeyBytes);
        await using var ours = new OurSshServer(options);
        await using var sshd = await OpenSshServer.StartAsync(hostKey, clientKey);
        var user = Environment.UserName;
        foreach (var cipher in ciphers)
        {
            var scenario = $"{megabytes} MiB, {cipher}";
            drained = 0;
            var t = await OurClientAsync(ours.Port, user, hostKey, clientKey, cipher, bytes, rekeyBytes, cancellationToken);
            if (Interlocked.Read(ref drained) != bytes)
                throw new InvalidOperationException($"our server drained {drained} of {bytes} bytes");
            rows.Add(Row(scenario, "ours (in-process)", "ours", bytes, t));
            t = await OurClientAsync(sshd.Port, user, hostKey, clientKey, cipher, bytes, rekeyBytes, cancellationToken);
            rows.Add(Row(scenario, "OpenSSH sshd", "ours", bytes, t));
            if (openSshClient)
            {
                var pipe = $"head -c {bytes.ToString(CultureInfo.InvariantCulture)} /dev/zero | ssh {ssh.Options(sshd.Port, hostKey, cipher).Replace("-P ", "-p ", StringComparison.Ordinal)} {user}@127.0.0.1 'cat > /dev/null'";
                rows.Add(Row(scenario, "OpenSSH sshd", "OpenSSH ssh", bytes, await OpenSshClient.RunShellAsync(pipe, cancellationToken)));
                drained = 0;
                pipe = $"head -c {bytes.ToString(CultureInfo.InvariantCulture)} /dev/zero | ssh {ssh.Options(ours.Port, hostKey, cipher).Replace("-P ", "-p ", StringComparison.Ordinal)} {user}@127.0.0.1 'cat > /dev/null'";
                rows.Add(Row(scenario, "ours (in-process)", "OpenSSH ssh", bytes, await OpenSshClient.RunShellAsync(pipe, cancellationToken)));
            }
        }

        Report.Print("ssh-throughput", rows, r => r.Server == "OpenSSH sshd" && r.Client == "ours", "ours ≥ 0.8× OpenSSH (same client: ours)");
        return 0;
    }

    private static Measurement Row(string scenario, string server, string client, long bytes, TimeSpan elapsed) =>
        new(scenario, server, client, bytes / 1048576.0 / elapsed.TotalSeconds, "MiB/s", $"{elapsed.TotalSeconds:0.00} s");

    private static async Task<TimeSpan> OurClientAsync(int port, string user, SshHostKey hostKey, SshHostKey clientKey, string cipher, long bytes, long rekeyBytes, CancellationToken cancellationToken)
    {
        var chunk = new byte[WriteSize];
        var stream = await Loopback.ConnectAsync(port, cancellationToken);
        await using var client = await SshClientSession.ConnectAsync(stream, Loopback.ClientOptions(clientKey, user, hostKey.PublicKey.Fingerprint, cipher, rekeyBytes), cancellationToken);
        var channel = await client.OpenSessionAsync(cancellationToken);
        if (!await channel.ExecAsync("cat > /dev/null", cancellationToken))
            throw new InvalidOperationException("exec refused");
        var watch = Stopwatch.StartNew();
        for (var sent = 0L; sent < bytes; sent += WriteSize)
            await channel.WriteAsync(chunk.AsMemory(0, (int)Math.Min(WriteSize, bytes - sent)), cancellationToken);
        await channel.SendEofAsync(cancellationToken);
        var status = await channel.ExitStatus.WaitAsync(cancellationToken);
        watch.Stop();
        if (status != 0)
            throw new InvalidOperationException($"sink exited {status}");
        return watch.Elapsed;
    }
}
