using System.Diagnostics;
using System.Security.Cryptography;

namespace Onboarding.Sftp.Tests;

/// <summary>
/// Interop with the real OpenSSH binaries, without SSH: `sftp -D` runs a local server program
/// over stdin/stdout, and OpenSSH's sftp-server can be driven over its stdin/stdout the same way.
/// Needs the openssh-client and openssh-sftp-server packages.
/// </summary>
[Trait("Category", "Interop")]
public class InteropTests
{
    private const string OpenSshServer = "/usr/lib/openssh/sftp-server";

    private static string StdioServerDll => Path.Combine(AppContext.BaseDirectory, "Onboarding.Sftp.StdioServer.dll");

    private static string OurServerCommand(string root, string? rejectSuffix = null) =>
        $"dotnet {StdioServerDll} {root}" + (rejectSuffix is null ? "" : " " + rejectSuffix);

    private static void RequireOpenSsh()
    {
        Assert.True(File.Exists("/usr/bin/sftp"), "install openssh-client");
        Assert.True(File.Exists(OpenSshServer), "install openssh-sftp-server");
    }

    /// <summary>Runs `sftp -b - -D server` with the batch on stdin; returns exit code and output without the echoed commands.</summary>
    private static async Task<(int ExitCode, string[] Output, string Error)> RunSftpBatchAsync(string serverCommand, string batch, string workingDirectory)
    {
        var psi = new ProcessStartInfo("sftp")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        psi.ArgumentList.Add("-b");
        psi.ArgumentList.Add("-");
        psi.ArgumentList.Add("-D");
        psi.ArgumentList.Add(serverCommand);
        using var process = Process.Start(psi)!;
        await process.StandardInput.WriteAsync(batch);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        var lines = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("sftp>", StringComparison.Ordinal)).ToArray();
        return (process.ExitCode, lines, await stderr);
    }

    [Fact]
    public async Task OpenSsh_sftp_client_puts_gets_lists_renames_and_removes_through_our_server()
    {
        RequireOpenSsh();
        var root = SessionPair.NewTempDirectory();
        var local = SessionPair.NewTempDirectory();
        try
        {
            var data = new byte[5_000_003];
            new Random(5).NextBytes(data);
            await File.WriteAllBytesAsync(Path.Combine(local, "device.bin"), data);
            var batch = string.Join('\n',
                "put device.bin up.bin",
                "get up.bin back.bin",
                "mkdir records",
                "rename up.bin records/moved.bin",
                "ls -l records",
                "rm records/moved.bin",
                "rmdir records",
                "ls -l",
                "");
            var (code, output, error) = await RunSftpBatchAsync(OurServerCommand(root), batch, local);
            Assert.True(code == 0, $"sftp exited {code}: {error}");
            Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(local, "back.bin")));
            var listed = Assert.Single(output);
            Assert.Matches(@"^-rw-r--r-- +1 \S+ +\S+ +5000003 \w{3} [ \d]\d \d\d:\d\d moved.bin$", listed);
            Assert.Empty(Directory.EnumerateFileSystemEntries(root));
        }
        finally
        {
            Directory.Delete(root, true);
            Directory.Delete(local, true);
        }
    }

    [Fact]
    public async Task OpenSsh_sftp_client_preserves_attributes_resumes_and_is_refused_symlinks()
    {
        RequireOpenSsh();
        var root = SessionPair.NewTempDirectory();
        var local = SessionPair.NewTempDirectory();
        try
        {
            var data = new byte[3_000_000];
            new Random(3).NextBytes(data);
            var source = Path.Combine(local, "z.bin");
            await File.WriteAllBytesAsync(source, data);
            File.SetLastWriteTimeUtc(source, new DateTime(2019, 5, 5, 10, 0, 0, DateTimeKind.Utc));
            File.SetUnixFileMode(source, (UnixFileMode)Convert.ToInt32("640", 8));
            await File.WriteAllBytesAsync(Path.Combine(root, "partial.bin"), data.AsSpan(0, 1_000_000).ToArray());

            // put -p: SETSTAT/FSETSTAT of times and mode; reput: STAT then WRITEs from the remote size.
            var (code, _, error) = await RunSftpBatchAsync(OurServerCommand(root), "put -p z.bin p.bin\nchmod 600 p.bin\nreput z.bin partial.bin\n", local);
            Assert.True(code == 0, $"sftp exited {code}: {error}");
            Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(root, "p.bin")));
            Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(root, "partial.bin")));
            Assert.Equal(new DateTime(2019, 5, 5, 10, 0, 0, DateTimeKind.Utc), File.GetLastWriteTimeUtc(Path.Combine(root, "p.bin")));
            Assert.Equal((UnixFileMode)Convert.ToInt32("600", 8), File.GetUnixFileMode(Path.Combine(root, "p.bin")));

            (code, _, error) = await RunSftpBatchAsync(OurServerCommand(root), "ln -s p.bin l\n", local);
            Assert.NotEqual(0, code);
            Assert.Contains("Operation unsupported", error, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, true);
            Directory.Delete(local, true);
        }
    }

    [Fact]
    public async Task OpenSsh_sftp_client_shows_our_close_failure_message()
    {
        RequireOpenSsh();
        var root = SessionPair.NewTempDirectory();
        var local = SessionPair.NewTempDirectory();
        try
        {
            await File.WriteAllTextAsync(Path.Combine(local, "record.xml"), "<device serial='X'/>");
            var (code, _, error) = await RunSftpBatchAsync(OurServerCommand(root, ".xml"), "put record.xml\n", local);
            // OpenSSH's sftp prints only the status code's text for a failed CLOSE ("close remote:
            // Failure"), not the server's message; our SftpClient surfaces the message itself.
            Assert.NotEqual(0, code);
            Assert.Contains("close remote: Failure", error, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, true);
            Directory.Delete(local, true);
        }
    }

    [Fact]
    public async Task Listing_through_our_server_matches_OpenSsh_sftp_server()
    {
        RequireOpenSsh();
        var root = SessionPair.NewTempDirectory();
        try
        {
            await File.WriteAllTextAsync(Path.Combine(root, "a.txt"), "hi\n");
            await File.WriteAllBytesAsync(Path.Combine(root, "big.bin"), new byte[123_456]);
            await File.WriteAllBytesAsync(Path.Combine(root, "empty"), []);
            await File.WriteAllTextAsync(Path.Combine(root, "old.txt"), "old");
            File.SetLastWriteTimeUtc(Path.Combine(root, "old.txt"), new DateTime(2020, 3, 4, 5, 6, 0, DateTimeKind.Utc));
            File.SetUnixFileMode(Path.Combine(root, "a.txt"), (UnixFileMode)Convert.ToInt32("4755", 8));
            Directory.CreateDirectory(Path.Combine(root, "sub", "x"));
            Directory.CreateDirectory(Path.Combine(root, "sticky"));
            File.SetUnixFileMode(Path.Combine(root, "sticky"), (UnixFileMode)Convert.ToInt32("1777", 8));
            File.CreateSymbolicLink(Path.Combine(root, "link"), "a.txt");

            // Not "ls -ln": with users-groups-by-id@openssh.com the client prints names even for -n.
            // "ls -la sub" rather than "ls -la": our ".." at the root is the root itself (chroot-like).
            foreach (var command in new[] { "ls -l", "ls -la sub", "ls -lS", "ls -lt", "ls -l sub" })
            {
                var theirs = await RunSftpBatchAsync(OpenSshServer, $"cd {root}\n{command}\n", root);
                var ours = await RunSftpBatchAsync(OurServerCommand(root), $"{command}\n", root);
                Assert.Equal(0, theirs.ExitCode);
                Assert.Equal(0, ours.ExitCode);
                Assert.Equal(theirs.Output.Length, ours.Output.Length);
                // OpenSSH's sftp client re-renders long names from ATTRS (printing "?" for the link
                // count) when the server offers users-groups-by-id@openssh.com, as OpenSSH's
                // sftp-server does; ours does not, so the client prints our long name verbatim.
                // Every other column must be identical (names compared without the directory prefix).
                Assert.Equal(theirs.Output.Select(MaskLinkCount), ours.Output.Select(MaskLinkCount));
            }
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    private static string MaskLinkCount(string line)
    {
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 3)
        {
            return line;
        }

        // A re-rendered listing of "sub" names entries "sub/x"; a verbatim long name says "x".
        fields[^1] = fields[^1][(fields[^1].LastIndexOf('/') + 1)..];
        return string.Join(' ', fields.Take(1).Append("#").Concat(fields.Skip(2)));
    }

    [Fact]
    public async Task Our_client_transfers_16_MiB_with_OpenSsh_sftp_server()
    {
        RequireOpenSsh();
        var root = SessionPair.NewTempDirectory();
        var psi = new ProcessStartInfo(OpenSshServer)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            WorkingDirectory = root,
        };
        using var process = Process.Start(psi)!;
        try
        {
            await using var channel = new ProcessStream(process);
            await using var client = new SftpClient(channel);
            await client.ConnectAsync();
            Assert.Equal(3u, client.ServerVersion);
            Assert.NotNull(client.ServerLimits);
            Assert.Contains("posix-rename@openssh.com", client.ServerExtensions.Keys);

            var data = new byte[16 * 1024 * 1024];
            new Random(16).NextBytes(data);
            var watch = Stopwatch.StartNew();
            await client.UploadAsync("upload.bin", new MemoryStream(data));
            var upload = watch.Elapsed;
            Assert.Equal(SHA256.HashData(data), SHA256.HashData(await File.ReadAllBytesAsync(Path.Combine(root, "upload.bin"))));

            var back = new MemoryStream();
            watch.Restart();
            await client.DownloadAsync("upload.bin", back);
            var download = watch.Elapsed;
            Assert.Equal(SHA256.HashData(data), SHA256.HashData(back.ToArray()));

            var home = await client.RealPathAsync(".");
            Assert.Equal(root, home);
            await client.MakeDirectoryAsync("dir");
            await client.RenameAsync("upload.bin", "dir/renamed.bin");
            var listing = await client.ListDirectoryAsync("dir");
            var entry = Assert.Single(listing);
            Assert.Equal("renamed.bin", entry.FileName);
            Assert.Equal((ulong)data.Length, entry.Attributes.Size);
            Assert.StartsWith("-rw", entry.LongName, StringComparison.Ordinal);

            await File.WriteAllTextAsync(Path.Combine(root, "other"), "x");
            await Assert.ThrowsAsync<SftpStatusException>(() => client.RenameAsync("other", "dir/renamed.bin"));
            await client.RenameAsync("other", "dir/renamed.bin", overwrite: true);
            Assert.Equal(1ul, (await client.StatAsync("dir/renamed.bin")).Size);

            var vfs = await client.StatVfsAsync(".");
            Assert.True(vfs.Blocks > 0);
            await client.RemoveAsync("dir/renamed.bin");
            await client.RemoveDirectoryAsync("dir");
            var missing = await Assert.ThrowsAsync<SftpStatusException>(() => client.StatAsync("dir"));
            Assert.Equal(SftpStatusCode.NoSuchFile, missing.Code);
            Assert.Empty(Directory.EnumerateFileSystemEntries(root));
            Console.WriteLine($"16 MiB against OpenSSH sftp-server: upload {upload.TotalMilliseconds:F0} ms, download {download.TotalMilliseconds:F0} ms");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }

            await process.WaitForExitAsync();
            Directory.Delete(root, true);
        }
    }

    [Fact]
    public async Task OpenSsh_scp_in_place_upload_stays_whole_when_a_write_finishes_after_later_ones()
    {
        // OpenSSH's scp -s uploads in place and truncates the file at the last offset it saw acknowledged in order; with
        // reordered WRITE replies it cut the file short and still exited 0. Our server runs the writes in parallel but
        // must answer them in request order. scp waits for its first write's ack before pipelining the rest, so the second
        // write (offset 261,120, our max-write-length) is held back here and the third and fourth finish before it.
        RequireOpenSsh();
        var root = SessionPair.NewTempDirectory();
        var local = SessionPair.NewTempDirectory();
        try
        {
            var fakeSsh = Path.Combine(local, "fake-ssh");
            await File.WriteAllTextAsync(fakeSsh, $"#!/bin/sh\nSFTP_SLOW_WRITE=261120:300 exec dotnet {StdioServerDll} {root}\n");
            File.SetUnixFileMode(fakeSsh, (UnixFileMode)Convert.ToInt32("755", 8));
            var data = new byte[1_000_001];
            new Random(11).NextBytes(data);
            await File.WriteAllBytesAsync(Path.Combine(local, "rec.bin"), data);

            Assert.Equal(0, await RunAsync("scp", local, "-s", "-S", fakeSsh, "rec.bin", "nms:/whole.bin"));

            Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(root, "whole.bin")));
        }
        finally
        {
            Directory.Delete(root, true);
            Directory.Delete(local, true);
        }
    }

    [Fact]
    public async Task OpenSsh_scp_uploads_and_downloads_through_our_server()
    {
        RequireOpenSsh();
        Assert.True(File.Exists("/usr/bin/scp"), "install openssh-client");
        var root = SessionPair.NewTempDirectory();
        var local = SessionPair.NewTempDirectory();
        try
        {
            // scp runs "<program> ... host sftp" to reach the remote side; this stand-in ignores the
            // arguments and starts our server on stdin/stdout, so scp's SFTP mode talks to it directly.
            var fakeSsh = Path.Combine(local, "fake-ssh");
            await File.WriteAllTextAsync(fakeSsh, $"#!/bin/sh\nexec dotnet {StdioServerDll} {root}\n");
            File.SetUnixFileMode(fakeSsh, (UnixFileMode)Convert.ToInt32("755", 8));
            var data = new byte[1_000_001];
            new Random(9).NextBytes(data);
            await File.WriteAllBytesAsync(Path.Combine(local, "rec.bin"), data);

            Assert.Equal(0, await RunAsync("scp", local, "-s", "-S", fakeSsh, "rec.bin", "nms:/drop.bin"));
            Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(root, "drop.bin")));
            Assert.Equal(0, await RunAsync("scp", local, "-s", "-S", fakeSsh, "nms:/drop.bin", "copy.bin"));
            Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(local, "copy.bin")));
        }
        finally
        {
            Directory.Delete(root, true);
            Directory.Delete(local, true);
        }
    }

    [Fact]
    public async Task Paramiko_sftp_client_works_against_our_server()
    {
        const string python = "/usr/bin/python3";
        Assert.True(File.Exists(python), "install python3-paramiko");
        var root = SessionPair.NewTempDirectory();
        try
        {
            var script = Path.Combine(AppContext.BaseDirectory, "Interop", "paramiko_client.py");
            Assert.Equal(0, await RunAsync(python, root, script, "dotnet", StdioServerDll, root));
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    private static async Task<int> RunAsync(string file, string workingDirectory, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        var error = await stderr;
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)} exited {process.ExitCode}: {error}");
        return process.ExitCode;
    }
}

/// <summary>A child process's stdout (read) and stdin (write) as one duplex stream.</summary>
internal sealed class ProcessStream(Process process) : Stream
{
    private readonly Stream _input = process.StandardOutput.BaseStream;
    private readonly Stream _output = process.StandardInput.BaseStream;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush() => _output.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _output.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => _input.Read(buffer, offset, count);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _input.ReadAsync(buffer, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => _output.Write(buffer, offset, count);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => _output.WriteAsync(buffer, cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _output.Dispose(); // EOF on the server's stdin ends its session
        }

        base.Dispose(disposing);
    }
}
