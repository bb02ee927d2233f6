using System.Diagnostics;
using System.Globalization;
using Onboarding.Bench.Harness;
using Onboarding.Ssh.Keys;

namespace Onboarding.LoadTest;

/// <summary>
/// Issue 14: single-record files per second through a RUNNING host's SFTP drop on ONE session, with a pipelining client
/// (ours: <see cref="Onboarding.Sftp.SftpClient"/> with <c>--parallel</c> uploads in flight, so that many OPEN, WRITE
/// and CLOSE requests are outstanding at once), against OpenSSH's <c>sftp-server</c> run by an OpenSSH sshd on a free
/// loopback port writing plain files, with the same client, the same files and the same parallelism, in the same run.
/// Ours is timed from the first OPEN to the last CLOSE OK (every CLOSE answered only after its group is committed);
/// the bookkept count is the delta of <c>GET /api/devices</c>'s total.
/// </summary>
internal static class SftpDropTest
{
    public static async Task<int> RunAsync(Uri url, int sftpPort, int files, IReadOnlyList<int> parallels, int? hostPid, string? pgData,
        CancellationToken cancellationToken)
    {
        Report.Header($"sftp-drop url={url} sftp-port={sftpPort} files={files}×1 record parallel={string.Join(',', parallels)}");
        var runId = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var tenant = await NmsTenant.SignUpAsync(url, "Drop Bench " + runId, "Acme " + runId, cancellationToken);
        using var hostKey = SshHostKey.GenerateEd25519();
        using var clientKey = SshHostKey.GenerateEd25519();
        await using var sshd = await OpenSshServer.StartAsync(hostKey, clientKey, "/usr/lib/openssh/sftp-server");

        var rows = new List<Measurement>();
        foreach (var parallel in parallels)
        {
            var scenario = $"{files} files × 1 record, one session, {parallel} in flight";
            var documents = new byte[files][];
            Parallel.For(0, files, f =>
            {
                var serial = $"DB{runId}-{parallel}-{f:D6}";
                documents[f] = FactoryAuthority.Document([FactoryAuthority.Device(serial, tenant.CustomerId, tenant.Ca.IssueDevicePem(serial))]);
            });

            var before = await SftpRecordsTest.DeviceTotalAsync(tenant.Http, cancellationToken);
            var cpuBefore = hostPid is { } pid ? ProcStat.CpuTicks(pid) : null;
            var pgBefore = pgData is null ? null : ProcStat.ClusterCpuTicks(pgData);
            var elapsed = await SftpRecordsTest.UploadToDropAsync(sftpPort, tenant.SftpOptions, documents, $"db-{runId}-{parallel}", parallel, cancellationToken);
            var cpuAfter = hostPid is { } pid2 ? ProcStat.CpuTicks(pid2) : null;
            var pgAfter = pgData is null ? null : ProcStat.ClusterCpuTicks(pgData);
            var bookkept = await SftpRecordsTest.DeviceTotalAsync(tenant.Http, cancellationToken) - before;
            var cpu = (cpuBefore is { } b && cpuAfter is { } a ? $", host CPU {(a - b) / ProcStat.TicksPerSecond * 1000 / files:0.00} ms/file" : "")
                + (pgBefore is { } pb && pgAfter is { } pa ? $", PostgreSQL CPU {(pa - pb) / ProcStat.TicksPerSecond * 1000 / files:0.00} ms/file" : "");
            rows.Add(new Measurement(scenario, "ours: host drop (SSH + SFTP + parse + verify + group commit)", "ours, pipelining", files / elapsed.TotalSeconds, "files/s",
                $"{bookkept}/{files} bookkept (REST total), {elapsed.TotalSeconds:0.00} s{cpu}, load {Report.LoadAverage()}"));

            var directory = Directory.CreateTempSubdirectory("onboarding-bench-drop-baseline-").FullName;
            try
            {
                await using var session = await OurSftp.ConnectAsync(sshd.Port, Loopback.ClientOptions(clientKey, Environment.UserName, hostKey.PublicKey.Fingerprint), cancellationToken);
                var raw = await SftpRecordsTest.UploadAllAsync(session.Client, documents, i => Path.Combine(directory, $"{i:D6}.xml"), parallel, cancellationToken);
                var written = Directory.GetFiles(directory).Length;
                rows.Add(new Measurement(scenario, "baseline: OpenSSH sshd + sftp-server (plain files)", "ours, pipelining", files / raw.TotalSeconds, "files/s",
                    $"{written}/{files} files written, {raw.TotalSeconds:0.00} s, load {Report.LoadAverage()}"));
            }
            finally
            {
                Directory.Delete(directory, recursive: true);
            }
        }

        Report.Print("sftp-drop", rows, r => r.Server.StartsWith("baseline", StringComparison.Ordinal), "ours ≥ 1,000 single-record files/s on one session");
        return 0;
    }
}
