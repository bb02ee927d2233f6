using System.Diagnostics;
using System.Globalization;
using Onboarding.Bench.Harness;
using Onboarding.Ssh.Keys;

namespace Onboarding.LoadTest;

/// <summary>
/// One N MiB SFTP upload. Servers: our SshServerSession + SftpServer with a draining handler (in
/// this process) vs OpenSSH sshd with internal-sftp writing to /dev/null. Clients: ours
/// (SshClientSession + SftpClient.UploadAsync, 64 × 32 KiB in flight) for both; optionally
/// OpenSSH's sftp (`put`, from a file in /tmp) against both as a reference.
/// </summary>
internal static class SftpThroughputTest
{
    public static async Task<int> RunAsync(int megabytes, string cipher, bool openSshClient, CancellationToken cancellationToken)
    {
        Report.Header($"sftp-throughput megabytes={megabytes} cipher={cipher}");
        using var hostKey = SshHostKey.GenerateEd25519();
        using var clientKey = SshHostKey.GenerateEd25519();
        var bytes = (long)megabytes * 1024 * 1024;
        var rows = new List<Measurement>();
        var handler = new DrainSftpHandler();
        var options = Loopback.ServerOptions(hostKey, clientKey, OurSftp.Subsystem(handler));
        var scenario = $"{megabytes} MiB upload, {cipher}";
        var user = Environment.UserName;
        await using var ours = new OurSshServer(options);
        await using var sshd = await OpenSshServer.StartAsync(hostKey, clientKey);

        var t = await OurClientAsync(ours.Port, user, hostKey, clientKey, cipher, bytes, cancellationToken);
        if (handler.Bytes != bytes)
            throw new InvalidOperationException($"our server received {handler.Bytes} of {bytes} bytes");
        rows.Add(Row(scenario, "ours (SshServerSession+SftpServer, drain)", "ours (SftpClient)", bytes, t));
        t = await OurClientAsync(sshd.Port, user, hostKey, clientKey, cipher, bytes, cancellationToken);
        rows.Add(Row(scenario, "OpenSSH sshd internal-sftp → /dev/null", "ours (SftpClient)", bytes, t));

        if (openSshClient)
        {
            using var ssh = new OpenSshClient(clientKey);
            var source = Path.Combine(Path.GetTempPath(), $"onboarding-bench-{megabytes}m.bin");
            try
            {
                await OpenSshClient.RunShellAsync($"head -c {bytes.ToString(CultureInfo.InvariantCulture)} /dev/zero > {source}", cancellationToken);
                var batch = Path.Combine(Path.GetTempPath(), "onboarding-bench-sftp-batch");
                await File.WriteAllTextAsync(batch, $"put {source} /dev/null\n", cancellationToken);
                var elapsed = await OpenSshClient.RunShellAsync($"sftp {ssh.Options(sshd.Port, hostKey, cipher)} -b {batch} {user}@127.0.0.1 > /dev/null", cancellationToken);
                rows.Add(Row(scenario, "OpenSSH sshd internal-sftp → /dev/null", "OpenSSH sftp (incl. connect)", bytes, elapsed));
                handler.Reset();
                elapsed = await OpenSshClient.RunShellAsync($"sftp {ssh.Options(ours.Port, hostKey, cipher)} -b {batch} {user}@127.0.0.1 > /dev/null", cancellationToken);
                if (handler.Bytes != bytes)
                    throw new InvalidOperationException($"our server received {handler.Bytes} of {bytes} bytes from OpenSSH sftp");
                rows.Add(Row(scenario, "ours (SshServerSession+SftpServer, drain)", "OpenSSH sftp (incl. connect)", bytes, elapsed));
            }
            finally
            {
                File.Delete(source);
            }
        }

        Report.Print("sftp-throughput", rows, r => r.Server.StartsWith("OpenSSH", StringComparison.Ordinal) && r.Client.StartsWith("ours", StringComparison.Ordinal),
            "ours ≥ 0.8× OpenSSH (same client: ours)");
        return 0;
    }

    private static Measurement Row(string scenario, string server, string client, long bytes, TimeSpan elapsed) =>
        new(scenario, server, client, bytes / 1048576.0 / elapsed.TotalSeconds, "MiB/s", $"{elapsed.TotalSeconds:0.00} s");

    private static async Task<TimeSpan> OurClientAsync(int port, string user, SshHostKey hostKey, SshHostKey clientKey, string cipher, long bytes, CancellationToken cancellationToken)
    {
        await using var session = await OurSftp.ConnectAsync(port, Loopback.ClientOptions(clientKey, user, hostKey.PublicKey.Fingerprint, cipher), cancellationToken);
        var watch = Stopwatch.StartNew();
        var sent = await session.Client.UploadAsync("/dev/null", new ZeroStream(bytes), cancellationToken);
        watch.Stop();
        if (sent != bytes)
            throw new InvalidOperationException($"uploaded {sent} of {bytes} bytes");
        return watch.Elapsed;
    }
}

/// <summary>A read-only stream of <c>length</c> zero bytes, so the source costs nothing.</summary>
internal sealed class ZeroStream(long length) : Stream
{
    private long _read;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => length;
    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = (int)Math.Min(buffer.Length, length - _read);
        buffer[..n].Clear();
        _read += n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer, offset, count));

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
