using System.Diagnostics;
using System.Globalization;
using System.Text;
using Onboarding.Bench.Harness;
using Onboarding.Ssh.Keys;

namespace Onboarding.LoadTest;

/// <summary>
/// An OpenSSH sshd started by the tool on a free loopback port with a generated config: the
/// given ed25519 host key, curve25519-sha256 only, public-key auth for one client key,
/// internal-sftp. Killed on dispose.
/// </summary>
internal sealed class OpenSshServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private OpenSshServer(Process process, int port, string directory)
    {
        _process = process;
        Port = port;
        Directory = directory;
    }

    public int Port { get; }

    public string Directory { get; }

    public string Log
    {
        get
        {
            lock (_log)
                return _log.ToString();
        }
    }

    private static readonly string[] SearchPath = ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"];

    public static string? Find(string tool) =>
        SearchPath.Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);

    /// <param name="sftpSubsystem">sshd's <c>Subsystem sftp</c>: <c>internal-sftp</c>, or a path such as <c>/usr/lib/openssh/sftp-server</c>.</param>
    public static async Task<OpenSshServer> StartAsync(SshHostKey hostKey, SshHostKey clientKey, string sftpSubsystem = "internal-sftp")
    {
        var sshd = Find("sshd") ?? throw new InvalidOperationException("sshd not found (apt-get install -y openssh-server)");
        var dir = System.IO.Directory.CreateTempSubdirectory("onboarding-bench-sshd-").FullName;
        var hostKeyPath = Path.Combine(dir, "ssh_host_ed25519_key");
        WritePrivate(hostKeyPath, hostKey.ToOpenSshPrivateKey());
        var authorizedKeys = Path.Combine(dir, "authorized_keys");
        File.WriteAllText(authorizedKeys, clientKey.PublicKey.ToAuthorizedKeysLine() + "\n");
        var port = Loopback.FreePort();
        var config = new StringBuilder()
            .AppendLine("HostKey " + hostKeyPath)
            .AppendLine("ListenAddress 127.0.0.1")
            .AppendLine("PidFile none")
            .AppendLine("AuthorizedKeysFile " + authorizedKeys)
            .AppendLine("StrictModes no")
            .AppendLine("UsePAM no")
            // sshd runs commands through the user's login shell. A .bashrc that rehashes pyenv (this machine's image) waits 60 s
            // on a lock a killed shell left behind, far past our timeouts; 0 makes it give up at once.
            .AppendLine("SetEnv PYENV_REHASH_TIMEOUT=0")
            .AppendLine("UseDNS no")
            .AppendLine("PasswordAuthentication no")
            .AppendLine("KbdInteractiveAuthentication no")
            .AppendLine("PermitRootLogin prohibit-password")
            .AppendLine("PrintMotd no")
            .AppendLine("PrintLastLog no")
            .AppendLine("Compression no")
            .AppendLine("MaxStartups 200")
            .AppendLine("LogLevel ERROR")
            .AppendLine("KexAlgorithms curve25519-sha256")
            .AppendLine("HostKeyAlgorithms ssh-ed25519")
            .AppendLine("Ciphers chacha20-poly1305@openssh.com,aes128-gcm@openssh.com,aes256-gcm@openssh.com,aes128-ctr,aes256-ctr")
            .AppendLine("MACs hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com")
            .AppendLine("Subsystem sftp " + sftpSubsystem);
        var configPath = Path.Combine(dir, "sshd_config");
        File.WriteAllText(configPath, config.ToString());
        System.IO.Directory.CreateDirectory("/run/sshd");
        var psi = new ProcessStartInfo(sshd) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "-D", "-e", "-f", configPath, "-p", port.ToString(CultureInfo.InvariantCulture) })
            psi.ArgumentList.Add(a);
        var process = Process.Start(psi) ?? throw new InvalidOperationException("sshd did not start");
        var server = new OpenSshServer(process, port, dir);
        process.ErrorDataReceived += (_, e) =>
        {
            lock (server._log)
                server._log.AppendLine(e.Data);
        };
        process.BeginErrorReadLine();
        // Wait for the listener without opening an SSH connection (a bare connect is cheap and not logged at ERROR).
        await using (await Loopback.ConnectAsync(port))
        {
        }
        return server;
    }

    public static void WritePrivate(string path, string content)
    {
        File.WriteAllText(path, content);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        catch (InvalidOperationException)
        {
            // already exited
        }
        _process.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
