using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Onboarding.Ssh;
using Onboarding.Ssh.Keys;

namespace Onboarding.IntegrationTests.Infrastructure;

/// <summary>
/// A device made of real peers: OpenSSH <c>sshd</c> on loopback (exec runs real commands) whose "netconf" subsystem is
/// yuma123's <c>netconf-subsystem</c>, connected to a <c>netconfd</c> of its own (the direction of the TCP connection
/// does not matter to pre-configuration, so we dial sshd rather than have it call home). Needs root for sshd's
/// privilege separation; test.sh installs openssh-server and netconfd.
/// </summary>
public sealed class OpenSshNetconfDevice : IAsyncLifetime
{
    private readonly StringBuilder _sshdLog = new();
    private SshHostKey? _hostKey;
    private SshHostKey? _clientKey;
    private Process? _netconfd;
    private Process? _sshd;

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("prov-device-").FullName;

    public int Port { get; private set; }

    private string Socket => Path.Combine(Directory, "ncx.sock");

    public string SshdLog
    {
        get
        {
            lock (_sshdLog)
                return _sshdLog.ToString();
        }
    }

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists("/usr/sbin/netconfd"), "needs Debian's netconfd (yuma123; test.sh installs it)");
        Assert.True(File.Exists("/usr/sbin/sshd"), "needs OpenSSH sshd (test.sh installs openssh-server)");
        // netconfd refuses (agt_connect "access denied") a session whose SSH port is not one of its --port values.
        Port = FreePort();
        var netconfd = new ProcessStartInfo("/usr/sbin/netconfd") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Directory };
        foreach (var a in new[] { "--no-startup", "--superuser=root", string.Create(CultureInfo.InvariantCulture, $"--port={Port}"), $"--ncxserver-sockname={Socket}", $"--home={Directory}", $"--log={Directory}/netconfd.log", "--log-level=info" })
            netconfd.ArgumentList.Add(a);
        _netconfd = Process.Start(netconfd)!;
        _ = _netconfd.StandardOutput.ReadToEndAsync();
        _ = _netconfd.StandardError.ReadToEndAsync();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!File.Exists(Socket) && DateTime.UtcNow < deadline && !_netconfd.HasExited)
            await Task.Delay(100);
        Assert.True(File.Exists(Socket), "netconfd did not open its socket");

        _hostKey = SshHostKey.GenerateEd25519();
        _clientKey = SshHostKey.GenerateEd25519();
        var hostKeyPath = Path.Combine(Directory, "ssh_host_ed25519_key");
        await File.WriteAllTextAsync(hostKeyPath, _hostKey.ToOpenSshPrivateKey());
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(hostKeyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await File.WriteAllTextAsync(Path.Combine(Directory, "authorized_keys"), _clientKey.PublicKey.ToAuthorizedKeysLine() + "\n");
        var config = new StringBuilder()
            .AppendLine("ListenAddress 127.0.0.1")
            .AppendLine("HostKey " + hostKeyPath)
            .AppendLine("PidFile none")
            .AppendLine("AuthorizedKeysFile " + Path.Combine(Directory, "authorized_keys"))
            .AppendLine("StrictModes no")
            .AppendLine("UsePAM no")
            // sshd runs commands through the user's login shell. A .bashrc that rehashes pyenv (this machine's image) waits 60 s
            // on a lock a killed shell left behind, far past our timeouts; 0 makes it give up at once.
            .AppendLine("SetEnv PYENV_REHASH_TIMEOUT=0")
            .AppendLine("PasswordAuthentication no")
            .AppendLine("KbdInteractiveAuthentication no")
            .AppendLine("PermitRootLogin prohibit-password")
            // netconf-subsystem picks netconfd's socket by the SSH port in SSH_CONNECTION: <port>@<socket>.
            .AppendLine(string.Create(CultureInfo.InvariantCulture, $"Subsystem netconf /usr/sbin/netconf-subsystem --ncxserver-sockname={Port}@{Socket}"));
        var configPath = Path.Combine(Directory, "sshd_config");
        await File.WriteAllTextAsync(configPath, config.ToString());
        try
        {
            System.IO.Directory.CreateDirectory("/run/sshd");
        }
        catch (UnauthorizedAccessException)
        {
            // Not root: sshd will say why it cannot start.
        }

        var sshd = new ProcessStartInfo("/usr/sbin/sshd") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-D", "-e", "-f", configPath, "-p", Port.ToString(CultureInfo.InvariantCulture) })
            sshd.ArgumentList.Add(a);
        _sshd = Process.Start(sshd)!;
        _sshd.ErrorDataReceived += (_, e) =>
        {
            lock (_sshdLog)
                _sshdLog.AppendLine(e.Data);
        };
        _sshd.BeginErrorReadLine();
    }

    /// <summary>The NMS's SSH session to the device, logged in with the client key sshd authorizes.</summary>
    public async Task<SshClientSession> ConnectAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(IPAddress.Loopback, Port);
                return await SshClientSession.ConnectAsync(new NetworkStream(socket, ownsSocket: true), new SshClientOptions
                {
                    UserName = Environment.UserName,
                    ClientKey = _clientKey,
                    HostKeyVerifier = (context, _) => ValueTask.FromResult(context.HostKey.Equals(_hostKey!.PublicKey)),
                }).WaitAsync(TimeSpan.FromSeconds(60));
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && _sshd is { HasExited: false })
            {
                socket.Dispose();
                await Task.Delay(200);
            }
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var process in new[] { _sshd, _netconfd })
        {
            if (process is null)
                continue;
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            process.Dispose();
        }

        _hostKey?.Dispose();
        _clientKey?.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
