using System.Net;
using System.Net.Sockets;
using System.Text;
using Onboarding.Ssh.Keys;

namespace Onboarding.Ssh.Tests;

/// <summary>Our server against the OpenSSH ssh client, our client against OpenSSH sshd.</summary>
[Trait("Category", "Interop")]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class OpenSshInteropTests
{
    private static string Require(string tool) =>
        ProcessRunner.Find(tool) ?? throw new InvalidOperationException(tool + " is not installed (apt-get install openssh-client openssh-server)");

    [RequiresToolTheory("ssh")]
    [InlineData(SshAlgorithms.ChaCha20Poly1305, SshAlgorithms.HmacSha256Etm, "ed25519", SshAlgorithms.Ed25519, SshAlgorithms.Curve25519Sha256)]
    [InlineData(SshAlgorithms.Aes128Gcm, SshAlgorithms.HmacSha256Etm, "ed25519", SshAlgorithms.RsaSha512, SshAlgorithms.Curve25519Sha256Libssh)]
    [InlineData(SshAlgorithms.Aes256Gcm, SshAlgorithms.HmacSha256Etm, "rsa", SshAlgorithms.RsaSha256, SshAlgorithms.Curve25519Sha256)]
    [InlineData(SshAlgorithms.Aes128Ctr, SshAlgorithms.HmacSha256Etm, "ecdsa", SshAlgorithms.Ed25519, SshAlgorithms.Curve25519Sha256)]
    [InlineData(SshAlgorithms.Aes256Ctr, SshAlgorithms.HmacSha512Etm, "rsa", SshAlgorithms.RsaSha512, SshAlgorithms.Curve25519Sha256)]
    public async Task OpenSsh_client_runs_a_command_on_our_server(string cipher, string mac, string clientKeyKind, string hostKeyAlgorithm, string kex)
    {
        var ssh = Require("ssh");
        var dir = ProcessRunner.TempDir();
        using var hostKey = hostKeyAlgorithm == SshAlgorithms.Ed25519 ? SshHostKey.GenerateEd25519() : SshHostKey.GenerateRsa(3072);
        using var clientKey = clientKeyKind switch
        {
            "rsa" => SshHostKey.GenerateRsa(3072),
            "ecdsa" => SshHostKey.GenerateEcdsa(256),
            _ => SshHostKey.GenerateEd25519(),
        };
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var options = new SshServerOptions
        {
            HostKeys = [hostKey],
            Ciphers = SshAlgorithms.AllCiphers,
            PublicKeyAuthenticator = (r, _) => ValueTask.FromResult(r.UserName == "device" && r.Key.Fingerprint == clientKey.PublicKey.Fingerprint),
            ChannelRequestHandler = (req, ct) =>
            {
                if (req.RequestType != "exec")
                    return ValueTask.FromResult(false);
                _ = Task.Run(async () =>
                {
                    await req.ReplySent;
                    // Long enough for ServerAliveInterval=1 keepalives (global requests answered with REQUEST_FAILURE).
                    await Task.Delay(2500);
                    await req.Channel.WriteAsync(Encoding.UTF8.GetBytes("ran:" + req.Command + "\n"));
                    await req.Channel.SendEofAsync();
                    await req.Channel.SendExitStatusAsync(3);
                    await req.Channel.CloseAsync();
                }, CancellationToken.None);
                return ValueTask.FromResult(true);
            },
        };
        var serverTask = Task.Run(async () =>
        {
            var socket = await listener.AcceptSocketAsync();
            await using var session = await SshServerSession.AcceptAsync(new NetworkStream(socket, true), options);
            await session.Completion.WaitAsync(TimeSpan.FromSeconds(30));
            return session.UserName;
        });
        try
        {
            var keyPath = Path.Combine(dir, "id");
            ProcessRunner.WritePrivate(keyPath, clientKey.ToOpenSshPrivateKey());
            var knownHosts = Path.Combine(dir, "known_hosts");
            File.WriteAllText(knownHosts, $"[127.0.0.1]:{port} {hostKey.PublicKey.ToAuthorizedKeysLine()}\n");
            var result = await Task.Run(() => ProcessRunner.Run(ssh, "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
                "-o", "UserKnownHostsFile=" + knownHosts, "-o", "GlobalKnownHostsFile=/dev/null", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
                "-o", "Ciphers=" + cipher, "-o", "MACs=" + mac, "-o", "HostKeyAlgorithms=" + hostKeyAlgorithm, "-o", "KexAlgorithms=" + kex,
                "-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=2", "-i", keyPath, "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "device@127.0.0.1", "show version"));
            Assert.True(result.ExitCode == 3, $"exit {result.ExitCode}: {result.Stderr}");
            Assert.Equal("ran:show version\n", result.Stdout);
            Assert.Equal("device", await serverTask.WaitAsync(TimeSpan.FromSeconds(30)));
        }
        finally
        {
            listener.Stop();
            Directory.Delete(dir, true);
        }
    }

    [RequiresToolFact("ssh")]
    public async Task OpenSsh_client_rekeys_during_a_large_download_from_our_server()
    {
        var ssh = Require("ssh");
        var dir = ProcessRunner.TempDir();
        using var hostKey = SshHostKey.GenerateEd25519();
        using var clientKey = SshHostKey.GenerateEd25519();
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        const int total = 8 * 1024 * 1024;
        var options = new SshServerOptions
        {
            HostKeys = [hostKey],
            RekeyBytes = 3 * 1024 * 1024,
            PublicKeyAuthenticator = (r, _) => ValueTask.FromResult(r.Key.Fingerprint == clientKey.PublicKey.Fingerprint),
            ChannelRequestHandler = (req, ct) =>
            {
                _ = Task.Run(async () =>
                {
                    await req.ReplySent;
                    var chunk = new byte[64 * 1024];
                    Array.Fill(chunk, (byte)'x');
                    for (var i = 0; i < total / chunk.Length; i++)
                        await req.Channel.WriteAsync(chunk);
                    await req.Channel.SendEofAsync();
                    await req.Channel.SendExitStatusAsync(0);
                    await req.Channel.CloseAsync();
                }, CancellationToken.None);
                return ValueTask.FromResult(true);
            },
        };
        var serverTask = Task.Run(async () =>
        {
            var socket = await listener.AcceptSocketAsync();
            await using var session = await SshServerSession.AcceptAsync(new NetworkStream(socket, true), options);
            await session.Completion.WaitAsync(TimeSpan.FromSeconds(60));
        });
        try
        {
            var keyPath = Path.Combine(dir, "id");
            ProcessRunner.WritePrivate(keyPath, clientKey.ToOpenSshPrivateKey());
            var knownHosts = Path.Combine(dir, "known_hosts");
            File.WriteAllText(knownHosts, $"[127.0.0.1]:{port} {hostKey.PublicKey.ToAuthorizedKeysLine()}\n");
            var result = await Task.Run(() => ProcessRunner.Run(ssh, "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
                "-o", "UserKnownHostsFile=" + knownHosts, "-o", "GlobalKnownHostsFile=/dev/null", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
                "-o", "RekeyLimit=1M", "-i", keyPath, "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "u@127.0.0.1", "download"));
            Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Stderr}");
            Assert.Equal(total, result.Stdout.Length);
            await serverTask.WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            listener.Stop();
            Directory.Delete(dir, true);
        }
    }

    [RequiresToolTheory("sshd")]
    [InlineData(SshAlgorithms.Curve25519Sha256, SshAlgorithms.Ed25519, SshAlgorithms.Aes128Gcm)]
    [InlineData(SshAlgorithms.EcdhNistp256, SshAlgorithms.EcdsaNistp256, SshAlgorithms.ChaCha20Poly1305)]
    [InlineData(SshAlgorithms.DhGroup14Sha256, SshAlgorithms.RsaSha512, SshAlgorithms.Aes256Ctr)]
    [InlineData(SshAlgorithms.DhGroup16Sha512, SshAlgorithms.RsaSha256, SshAlgorithms.Aes256Gcm)]
    [InlineData(SshAlgorithms.Curve25519Sha256Libssh, SshAlgorithms.EcdsaNistp384, SshAlgorithms.Aes128Ctr)]
    public async Task Our_client_runs_a_command_on_OpenSsh_sshd(string kex, string hostKeyAlgorithm, string cipher)
    {
        var sshd = Require("sshd");
        var dir = ProcessRunner.TempDir();
        using var clientKey = SshHostKey.GenerateEd25519();
        using var edHost = SshHostKey.GenerateEd25519();
        using var rsaHost = SshHostKey.GenerateRsa(3072);
        using var ec256Host = SshHostKey.GenerateEcdsa(256);
        using var ec384Host = SshHostKey.GenerateEcdsa(384);
        var hostKeys = new[] { edHost, rsaHost, ec256Host, ec384Host };
        var config = new StringBuilder();
        for (var i = 0; i < hostKeys.Length; i++)
        {
            var path = Path.Combine(dir, "host" + i);
            ProcessRunner.WritePrivate(path, hostKeys[i].ToOpenSshPrivateKey());
            config.Append("HostKey ").AppendLine(path);
        }
        File.WriteAllText(Path.Combine(dir, "authorized_keys"), clientKey.PublicKey.ToAuthorizedKeysLine() + "\n");
        var port = FreePort();
        config.AppendLine("ListenAddress 127.0.0.1")
            .AppendLine("PidFile none")
            .AppendLine("RekeyLimit 1M")
            .AppendLine("AuthorizedKeysFile " + Path.Combine(dir, "authorized_keys"))
            .AppendLine("StrictModes no")
            .AppendLine("UsePAM no")
            // sshd runs commands through the user's login shell. A .bashrc that rehashes pyenv (this machine's image) waits 60 s
            // on a lock a killed shell left behind, far past our timeouts; 0 makes it give up at once.
            .AppendLine("SetEnv PYENV_REHASH_TIMEOUT=0")
            .AppendLine("PasswordAuthentication no")
            .AppendLine("KbdInteractiveAuthentication no")
            .AppendLine("PermitRootLogin prohibit-password")
            .AppendLine("KexAlgorithms " + string.Join(',', SshAlgorithms.AllKeyExchange))
            .AppendLine("HostKeyAlgorithms ssh-ed25519,rsa-sha2-512,rsa-sha2-256,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384")
            .AppendLine("Ciphers " + string.Join(',', SshAlgorithms.AllCiphers));
        var configPath = Path.Combine(dir, "sshd_config");
        File.WriteAllText(configPath, config.ToString());
        try
        {
            // sshd's privilege separation directory; only root can (and needs to) create it.
            Directory.CreateDirectory("/run/sshd");
        }
        catch (UnauthorizedAccessException)
        {
        }
        var psi = new System.Diagnostics.ProcessStartInfo(sshd) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "-D", "-e", "-f", configPath, "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture) })
            psi.ArgumentList.Add(a);
        using var process = System.Diagnostics.Process.Start(psi)!;
        var stderr = new StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            lock (stderr)
                stderr.AppendLine(e.Data);
        };
        process.BeginErrorReadLine();
        try
        {
            var socket = await ConnectWithRetryAsync(port);
            var expectedHostKey = hostKeyAlgorithm switch
            {
                SshAlgorithms.Ed25519 => edHost,
                SshAlgorithms.EcdsaNistp256 => ec256Host,
                SshAlgorithms.EcdsaNistp384 => ec384Host,
                _ => rsaHost,
            };
            var options = new SshClientOptions
            {
                UserName = Environment.UserName,
                ClientKey = clientKey,
                HostKeyVerifier = (k, _) => ValueTask.FromResult(k.HostKey.Fingerprint == expectedHostKey!.PublicKey.Fingerprint),
                KeyExchangeAlgorithms = [kex],
                HostKeyAlgorithms = [hostKeyAlgorithm],
                Ciphers = [cipher],
            };
            await using var client = await SshClientSession.ConnectAsync(new NetworkStream(socket, true), options).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(client.Transport.StrictKex);
            var channel = await client.OpenSessionAsync();
            Assert.True(await channel.ExecAsync("echo interop-$((6*7)); exit 5"));
            await channel.SendEofAsync();
            var output = Encoding.UTF8.GetString(await SessionPair.ReadAllAsync(channel).WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.Equal("interop-42\n", output);
            Assert.Equal(5u, await channel.ExitStatus.WaitAsync(TimeSpan.FromSeconds(10)));

            // RFC 4254 §4: sshd answers keepalive@openssh.com (which it does not implement) with REQUEST_FAILURE, twice in order.
            var keepalives = new[] { client.GlobalRequestAsync(SshClientSession.KeepaliveRequestName), client.GlobalRequestAsync(SshClientSession.KeepaliveRequestName) };
            var answers = await Task.WhenAll(keepalives).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.All(answers, Assert.False);
            Assert.Equal(2, answers.Length);

            // sshd rekeys every 1 MiB (RekeyLimit); 6 MB through it exercises rekeying in our client role.
            var download = await client.OpenSessionAsync();
            Assert.True(await download.ExecAsync("head -c 6000000 /dev/zero"));
            var bytes = await SessionPair.ReadAllAsync(download).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(6000000, bytes.Length);
            Assert.Equal(0u, await download.ExitStatus.WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.True(client.Transport.KeyExchangeCount > 2, $"{client.Transport.KeyExchangeCount} key exchanges");
        }
        catch (Exception ex)
        {
            lock (stderr)
                throw new InvalidOperationException("sshd log:\n" + stderr, ex);
        }
        finally
        {
            process.Kill(true);
            await process.WaitForExitAsync();
            Directory.Delete(dir, true);
        }
    }

    [RequiresToolFact("ssh-audit")]
    public async Task Ssh_audit_finds_no_failures_in_the_default_server_configuration()
    {
        var audit = ProcessRunner.Find("ssh-audit") ?? throw new InvalidOperationException("ssh-audit is not installed (apt-get install ssh-audit)");
        using var ed = SshHostKey.GenerateEd25519();
        using var rsa = SshHostKey.GenerateRsa(3072);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var options = new SshServerOptions { HostKeys = [ed, rsa], PasswordAuthenticator = (_, _) => ValueTask.FromResult(false) };
        using var stop = new CancellationTokenSource();
        var sessions = new List<Task>();
        var acceptLoop = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                Socket socket;
                try
                {
                    socket = await listener.AcceptSocketAsync(stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                lock (sessions)
                {
                    sessions.Add(Task.Run(async () =>
                    {
                        try
                        {
                            await using var session = await SshServerSession.AcceptAsync(new NetworkStream(socket, true), options, stop.Token);
                        }
                        catch (Exception ex) when (ex is SshProtocolException or SshConnectionLostException or OperationCanceledException)
                        {
                            // ssh-audit probes and hangs up; every way it leaves must be a typed error.
                        }
                    }));
                }
            }
        });
        try
        {
            var (code, stdout, stderr) = await Task.Run(() => ProcessRunner.Run(audit, "-n", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "127.0.0.1"));
            Assert.True(stdout.Contains("ssh-ed25519", StringComparison.Ordinal), stdout + stderr);
            var failures = stdout.Split('\n').Where(l => l.Contains("[fail]", StringComparison.Ordinal) || l.Contains("(fail)", StringComparison.Ordinal)).ToList();
            Assert.True(failures.Count == 0, string.Join('\n', failures) + "\n---\n" + stdout);
            _ = code;
        }
        finally
        {
            await stop.CancelAsync();
            listener.Stop();
            await acceptLoop;
            Task[] all;
            lock (sessions)
                all = [.. sessions];
            await Task.WhenAll(all).WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>Paramiko 2.12 has no strict KEX: this exercises the non-strict path against a real peer.</summary>
    [RequiresPythonModuleFact("paramiko")]
    public async Task Paramiko_client_runs_a_command_on_our_server_without_strict_kex()
    {
        var hostKey = SessionPair.HostKeyFor(SshAlgorithms.Ed25519);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var serverTask = Task.Run(async () =>
        {
            var socket = await listener.AcceptSocketAsync();
            var session = await SshServerSession.AcceptAsync(new NetworkStream(socket, true), SessionPair.ServerOptions(hostKey));
            await session.Completion.WaitAsync(TimeSpan.FromSeconds(30));
            await session.DisposeAsync();
        });
        const string script = """
            import sys, paramiko
            c = paramiko.SSHClient()
            c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
            c.connect('127.0.0.1', port=int(sys.argv[1]), username='alice', password='secret', look_for_keys=False, allow_agent=False)
            key = c.get_transport().get_remote_server_key()
            stdin, stdout, stderr = c.exec_command('hello')
            stdin.write('world')
            stdin.channel.shutdown_write()
            out = stdout.read().decode()
            print(key.get_name() + ' ' + key.get_base64())
            print(out)
            print(stdout.channel.recv_exit_status())
            c.close()
            """;
        try
        {
            var (code, stdout, stderr) = await Task.Run(() => ProcessRunner.Run(ProcessRunner.Python!, "-c", script, port.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Assert.True(code == 0, stderr);
            var lines = stdout.Split('\n');
            Assert.Equal(hostKey.PublicKey.ToAuthorizedKeysLine(), lines[0]);
            Assert.Equal("hello:world", lines[1]);
            Assert.Equal("42", lines[2]);
            await serverTask.WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            listener.Stop();
        }
    }

    /// <summary>Our client against a paramiko server (no strict KEX, CTR ciphers only), which also reads our private key file.</summary>
    [RequiresPythonModuleFact("paramiko")]
    public async Task Our_client_runs_a_command_on_a_paramiko_server()
    {
        var dir = ProcessRunner.TempDir();
        using var hostKey = SshHostKey.GenerateEd25519();
        var keyPath = Path.Combine(dir, "host");
        ProcessRunner.WritePrivate(keyPath, hostKey.ToOpenSshPrivateKey());
        var port = FreePort();
        const string script = """
            import socket, sys, threading, paramiko
            key = paramiko.Ed25519Key.from_private_key_file(sys.argv[1])
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(('127.0.0.1', int(sys.argv[2]))); s.listen(1)
            print('ready', flush=True)
            conn, _ = s.accept()
            done = threading.Event(); command = []
            class Srv(paramiko.ServerInterface):
                def get_allowed_auths(self, u): return 'password'
                def check_auth_password(self, u, p): return paramiko.AUTH_SUCCESSFUL if (u, p) == ('alice', 'secret') else paramiko.AUTH_FAILED
                def check_channel_request(self, kind, cid): return paramiko.OPEN_SUCCEEDED if kind == 'session' else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED
                def check_channel_exec_request(self, ch, cmd): command.append(cmd); done.set(); return True
            t = paramiko.Transport(conn); t.add_server_key(key); t.start_server(server=Srv())
            ch = t.accept(20); done.wait(20)
            ch.sendall(b'paramiko:' + command[0]); ch.send_exit_status(7); ch.shutdown_write(); ch.close()
            t.join(5)
            """;
        var psi = new System.Diagnostics.ProcessStartInfo(ProcessRunner.Python!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-c", script, keyPath, port.ToString(System.Globalization.CultureInfo.InvariantCulture) })
            psi.ArgumentList.Add(a);
        using var process = System.Diagnostics.Process.Start(psi)!;
        try
        {
            Assert.Equal("ready", await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20)));
            var socket = await ConnectWithRetryAsync(port);
            var options = new SshClientOptions
            {
                UserName = "alice",
                Password = "secret",
                HostKeyVerifier = (k, _) => ValueTask.FromResult(k.HostKey.Fingerprint == hostKey.PublicKey.Fingerprint),
            };
            await using var client = await SshClientSession.ConnectAsync(new NetworkStream(socket, true), options).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.False(client.Transport.StrictKex);
            var channel = await client.OpenSessionAsync();
            Assert.True(await channel.ExecAsync("show version"));
            var output = Encoding.UTF8.GetString(await SessionPair.ReadAllAsync(channel).WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.Equal("paramiko:show version", output);
            Assert.Equal(7u, await channel.ExitStatus.WaitAsync(TimeSpan.FromSeconds(10)));
        }
        catch (Exception ex)
        {
            throw new InvalidOperationException("paramiko: " + await process.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(5)), ex);
        }
        finally
        {
            if (!process.HasExited)
                process.Kill(true);
            Directory.Delete(dir, true);
        }
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static async Task<Socket> ConnectWithRetryAsync(int port)
    {
        for (var i = 0; ; i++)
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await s.ConnectAsync(IPAddress.Loopback, port);
                return s;
            }
            catch (SocketException) when (i < 50)
            {
                s.Dispose();
                await Task.Delay(100);
            }
        }
    }
}
