using System.Diagnostics;
using System.Globalization;
using Onboarding.Ssh.Keys;

namespace Onboarding.LoadTest;

/// <summary>Runs OpenSSH's own ssh / sftp clients with a throwaway key and a pinned known_hosts file.</summary>
internal sealed class OpenSshClient : IDisposable
{
    private readonly string _directory;

    public OpenSshClient(SshHostKey clientKey)
    {
        _directory = Directory.CreateTempSubdirectory("onboarding-bench-ssh-").FullName;
        KeyPath = Path.Combine(_directory, "id_ed25519");
        OpenSshServer.WritePrivate(KeyPath, clientKey.ToOpenSshPrivateKey());
    }

    public string KeyPath { get; }

    /// <summary>Common options: no config, pinned host key, our key only, the given cipher.</summary>
    public string Options(int port, SshHostKey hostKey, string cipher)
    {
        var knownHosts = Path.Combine(_directory, "known_hosts_" + port.ToString(CultureInfo.InvariantCulture));
        File.WriteAllText(knownHosts, $"[127.0.0.1]:{port} {hostKey.PublicKey.ToAuthorizedKeysLine()}\n");
        return $"-F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile={knownHosts} -o GlobalKnownHostsFile=/dev/null " +
               $"-o IdentitiesOnly=yes -o IdentityAgent=none -o Compression=no -o KexAlgorithms=curve25519-sha256 -o HostKeyAlgorithms=ssh-ed25519 " +
               $"-o Ciphers={cipher} -o MACs=hmac-sha2-256-etm@openssh.com -i {KeyPath} -P {port.ToString(CultureInfo.InvariantCulture)}";
    }

    /// <summary>Runs a bash pipeline and returns its wall time; throws with stderr on a non-zero exit.</summary>
    public static async Task<TimeSpan> RunShellAsync(string script, CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo("/bin/bash") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("set -o pipefail; " + script);
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("bash did not start");
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        watch.Stop();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"`{script}` exited {process.ExitCode}: {await stderr}{await stdout}");
        return watch.Elapsed;
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
