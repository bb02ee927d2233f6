using System.Diagnostics;

namespace Onboarding.Ssh.Tests;

/// <summary>Runs an external tool (ssh-keygen, ssh, sshd) with a timeout and captures its output.</summary>
// Interop tests run only where OpenSSH runs: Linux/macOS.
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal static class ProcessRunner
{
    public static string? Find(string name)
    {
        foreach (var dir in new[] { "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin" })
        {
            var path = Path.Combine(dir, name);
            if (File.Exists(path))
                return path;
        }
        return null;
    }

    /// <summary>The distribution's python3 (apt packages such as python3-paramiko install there).</summary>
    public static string? Python => File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : Find("python3");

    public static bool HasPythonModule(string module)
    {
        if (Python is not { } python)
            return false;
        try
        {
            return Run(python, "-c", "import " + module).ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    public static (int ExitCode, string Stdout, string Stderr) Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60_000))
        {
            p.Kill(true);
            throw new TimeoutException(file + " did not exit");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    public static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "ssh-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return dir;
    }

    public static void WritePrivate(string path, string text)
    {
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}
