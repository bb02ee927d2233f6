using Microsoft.Extensions.Logging;
using Onboarding.Sftp;
using Onboarding.Sftp.StdioServer;
using Onboarding.Sftp.Tests;

// Usage: Onboarding.Sftp.StdioServer <directory> [commit-reject-suffix]
// Serves <directory> as "/" over stdin/stdout. Log lines go to stderr, which sftp(1) passes through.
if (args.Length < 1)
{
    await Console.Error.WriteLineAsync("usage: Onboarding.Sftp.StdioServer <directory> [reject-suffix]");
    return 2;
}

var rejectSuffix = args.Length > 1 ? args[1] : null;
// SFTP_SLOW_WRITE=<offset>:<ms>: hold the write at that offset back, so the later writes of an upload finish first.
var slow = (Environment.GetEnvironmentVariable("SFTP_SLOW_WRITE") ?? "0:0").Split(':');
var handler = new DirectorySftpHandler(args[0])
{
    SlowWriteOffset = ulong.Parse(slow[0], System.Globalization.CultureInfo.InvariantCulture),
    SlowWriteDelay = TimeSpan.FromMilliseconds(int.Parse(slow[1], System.Globalization.CultureInfo.InvariantCulture)),
    Commit = path => rejectSuffix is not null && path.EndsWith(rejectSuffix, StringComparison.Ordinal)
        ? SftpStatus.Failure("record rejected: serial mismatch")
        : SftpStatus.Ok,
};
using var stdin = Console.OpenStandardInput();
using var stdout = Console.OpenStandardOutput();
using var channel = new StdioStream(stdin, stdout);
try
{
    await SftpServer.RunAsync(channel, handler, SftpServerOptions.Default, new StderrLogger(), CancellationToken.None);
    return 0;
}
catch (SftpProtocolException e)
{
    await Console.Error.WriteLineAsync($"sftp protocol error: {e.Message}");
    return 1;
}
