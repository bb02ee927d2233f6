using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Onboarding.Bench.Harness;
using Onboarding.Sftp;
using Onboarding.Ssh;

namespace Onboarding.LoadTest;

/// <summary>
/// Records bookkept per second through a RUNNING host's SFTP drop: sign up, register a
/// manufacturer and its factory CA, generate device certificates + record XML, then upload them
/// over one SSH/SFTP session with our client (first byte to last CLOSE OK, every CLOSE is a
/// bookkeeping commit) and check the device count over REST. Baseline in the same run: the same
/// files uploaded by the same client to OpenSSH's sftp-server spawned over stdio (no SSH, no parsing,
/// plain files in a temp directory).
/// </summary>
internal static class SftpRecordsTest
{
    public static async Task<int> RunAsync(Uri url, int sftpPort, int records, IReadOnlyList<int> recordsPerFile, int parallel, CancellationToken cancellationToken)
    {
        Report.Header($"sftp-records url={url} sftp-port={sftpPort} records={records} layouts={string.Join(',', recordsPerFile.Select(r => $"{records / r}x{r}"))} parallel={parallel}");
        var runId = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var tenant = await NmsTenant.SignUpAsync(url, "LoadTest " + runId, "Acme " + runId, cancellationToken);
        var http = tenant.Http;

        var rows = new List<Measurement>();
        foreach (var perFile in recordsPerFile)
        {
            var files = records / perFile;
            var scenario = $"{files} files × {perFile} record(s)";
            var generate = Stopwatch.StartNew();
            var documents = new byte[files][];
            Parallel.For(0, files, f => documents[f] = FactoryAuthority.Document(Enumerable.Range(0, perFile).Select(r =>
            {
                var serial = $"LT{runId}-{perFile}-{f * perFile + r:D6}";
                return FactoryAuthority.Device(serial, tenant.CustomerId, tenant.Ca.IssueDevicePem(serial));
            })));
            var totalBytes = documents.Sum(d => (long)d.Length);
            Console.WriteLine($"{scenario}: generated {records} certificates + records ({totalBytes / 1048576.0:0.0} MiB) in {generate.Elapsed.TotalSeconds:0.0} s");

            var before = await DeviceTotalAsync(http, cancellationToken);
            var elapsed = await UploadToDropAsync(sftpPort, tenant.SftpOptions, documents, $"lt-{runId}-{perFile}", parallel, cancellationToken);
            var after = await DeviceTotalAsync(http, cancellationToken);
            var bookkept = after - before;
            rows.Add(new Measurement(scenario, "ours: host drop (SSH + SFTP + parse + verify + Postgres)", "ours", bookkept / elapsed.TotalSeconds, "records/s",
                $"{bookkept}/{files * perFile} bookkept (REST total), {files / elapsed.TotalSeconds:0} files/s, {totalBytes / 1048576.0 / elapsed.TotalSeconds:0.00} MiB/s, {elapsed.TotalSeconds:0.00} s"));

            var raw = await UploadToSftpServerAsync(documents, parallel, cancellationToken);
            rows.Add(new Measurement(scenario, "baseline: OpenSSH sftp-server over stdio (plain files)", "ours", files * perFile / raw.TotalSeconds, "records/s",
                $"{files / raw.TotalSeconds:0} files/s, {totalBytes / 1048576.0 / raw.TotalSeconds:0.00} MiB/s, {raw.TotalSeconds:0.00} s"));
        }

        Report.Print("sftp-records", rows, r => r.Server.StartsWith("baseline", StringComparison.Ordinal), "ours ≥ 1,000 records/s bookkept");
        return 0;
    }

    internal static async Task<int> DeviceTotalAsync(HttpClient http, CancellationToken cancellationToken) =>
        (await http.GetFromJsonAsync<JsonElement>("/api/devices?pageSize=1", cancellationToken)).GetProperty("total").GetInt32();

    internal static async Task<TimeSpan> UploadToDropAsync(int port, SshClientOptions options, byte[][] documents, string prefix, int parallel, CancellationToken cancellationToken)
    {
        await using var session = await OurSftp.ConnectAsync(port, options, cancellationToken);
        return await UploadAllAsync(session.Client, documents, i => $"/incoming/{prefix}-{i:D5}.xml", parallel, cancellationToken);
    }

    private static async Task<TimeSpan> UploadToSftpServerAsync(byte[][] documents, int parallel, CancellationToken cancellationToken)
    {
        var directory = Directory.CreateTempSubdirectory("onboarding-bench-sftp-server-").FullName;
        var psi = new ProcessStartInfo("/usr/lib/openssh/sftp-server") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("/usr/lib/openssh/sftp-server did not start");
        try
        {
            await using var sftp = new SftpClient(new DuplexStream(process.StandardOutput.BaseStream, process.StandardInput.BaseStream));
            await sftp.ConnectAsync(cancellationToken);
            return await UploadAllAsync(sftp, documents, i => Path.Combine(directory, $"{i:D5}.xml"), parallel, cancellationToken);
        }
        finally
        {
            process.Kill();
            await process.WaitForExitAsync(cancellationToken);
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Uploads every document over one SFTP session, <paramref name="parallel"/> files in flight; the clock runs from the first OPEN to the last CLOSE OK.</summary>
    internal static async Task<TimeSpan> UploadAllAsync(SftpClient sftp, byte[][] documents, Func<int, string> path, int parallel, CancellationToken cancellationToken)
    {
        var next = -1;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, parallel).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < documents.Length)
            {
                using var source = new MemoryStream(documents[i], writable: false);
                await sftp.UploadAsync(path(i), source, cancellationToken);
            }
        }));
        watch.Stop();
        return watch.Elapsed;
    }

    /// <summary>Reads from one stream and writes to another: a child process's stdout/stdin as one SFTP channel.</summary>
    private sealed class DuplexStream(Stream input, Stream output) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => output.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => output.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => input.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => input.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => input.ReadAsync(buffer, offset, count, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count)
        {
            output.Write(buffer, offset, count);
            output.Flush();
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await output.WriteAsync(buffer, cancellationToken);
            await output.FlushAsync(cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                input.Dispose();
                output.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
