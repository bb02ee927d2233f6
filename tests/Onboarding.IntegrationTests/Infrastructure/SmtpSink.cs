using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Onboarding.IntegrationTests.Infrastructure;

/// <summary>
/// A real SMTP server: Debian's aiosmtpd (<c>/usr/bin/python3 -m aiosmtpd</c>) on a loopback port, storing every
/// message it accepts in a Maildir (the handler also adds X-MailFrom / X-RcptTo headers with the envelope).
/// </summary>
internal sealed class SmtpSink : IDisposable
{
    private readonly Process _process;

    private SmtpSink(Process process, int port, string maildir)
    {
        _process = process;
        Port = port;
        Maildir = maildir;
    }

    public int Port { get; }

    public string Maildir { get; }

    public static async Task<SmtpSink> StartAsync()
    {
        var port = WebhookReceiver.FreePort();
        // Python's Maildir creates cur/new/tmp only when it creates the directory itself.
        var maildir = Path.Combine(Directory.CreateTempSubdirectory("onboarding-smtp-").FullName, "maildir");
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-m", "aiosmtpd", "-n", "-l", $"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Mailbox", maildir })
            start.ArgumentList.Add(argument);
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start aiosmtpd (apt-get install python3-aiosmtpd)");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"aiosmtpd exited with {process.ExitCode}: {await process.StandardError.ReadToEndAsync()}");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return new SmtpSink(process, port, maildir);
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>The raw messages received so far (RFC 5322 text).</summary>
    public IReadOnlyList<string> Messages()
    {
        var fresh = Path.Combine(Maildir, "new");
        return Directory.Exists(fresh) ? [.. Directory.GetFiles(fresh).Order().Select(File.ReadAllText)] : [];
    }

    public void Dispose()
    {
        if (!_process.HasExited)
            _process.Kill();
        _process.WaitForExit();
        _process.Dispose();
    }
}
