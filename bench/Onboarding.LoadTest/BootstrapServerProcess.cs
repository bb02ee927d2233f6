using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Onboarding.Bootstrap;

namespace Onboarding.LoadTest;

/// <summary>
/// A bootstrap server (the baseline Kestrel answering 204, or our <see cref="BootstrapServerEndpoint"/>) in a process of
/// its own: this tool started again with the <c>bootstrap-server</c> subcommand. It prints <c>READY port sha256</c> and
/// serves until its standard input closes. The parent reads its CPU time from /proc/&lt;pid&gt;/stat.
/// </summary>
internal sealed class BootstrapServerProcess : IAsyncDisposable
{
    private const double TicksPerMillisecond = 0.1; // USER_HZ = 100

    private readonly Process _process;

    private BootstrapServerProcess(Process process, int port, byte[] certificateHash)
    {
        _process = process;
        Port = port;
        CertificateHash = certificateHash;
    }

    public int Port { get; }

    /// <summary>SHA-1 of the server's throwaway certificate, which the devices pin.</summary>
    public byte[] CertificateHash { get; }

    /// <param name="dll">Another build of this tool (e.g. from main, before a change) to run the server from; null: this one.</param>
    public static async Task<BootstrapServerProcess> StartAsync(string kind, string serverKey, string chain, CancellationToken cancellationToken, string? dll = null)
    {
        dll ??= typeof(BootstrapServerProcess).Assembly.Location;
        var host = Environment.ProcessPath ?? "dotnet";
        var psi = new ProcessStartInfo(host)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
            psi.ArgumentList.Add(dll);
        foreach (var argument in new[] { "bootstrap-server", "--kind", kind, "--server-key", serverKey, "--chain", chain })
            psi.ArgumentList.Add(argument);
        var process = Process.Start(psi) ?? throw new InvalidOperationException("bootstrap-server did not start");
        try
        {
            using var ready = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            ready.CancelAfter(TimeSpan.FromMinutes(2));
            while (true)
            {
                var line = await process.StandardOutput.ReadLineAsync(ready.Token)
                    ?? throw new InvalidOperationException($"bootstrap-server exited with {(process.WaitForExit(5000) ? process.ExitCode : -1)} before READY");
                var parts = line.Split(' ');
                if (parts is ["READY", var port, var hash])
                    return new BootstrapServerProcess(process, int.Parse(port, CultureInfo.InvariantCulture), Convert.FromHexString(hash));
                Console.WriteLine("bootstrap-server: " + line);
            }
        }
        catch
        {
            process.Kill();
            process.Dispose();
            throw;
        }
    }

    /// <summary>User + system CPU time the server process has used so far.</summary>
    public double CpuMilliseconds()
    {
        var stat = File.ReadAllText($"/proc/{_process.Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // Fields after the command: state is field 3, utime 14, stime 15.
        return (long.Parse(fields[14 - 3], CultureInfo.InvariantCulture) + long.Parse(fields[15 - 3], CultureInfo.InvariantCulture)) / TicksPerMillisecond;
    }

    public async ValueTask DisposeAsync()
    {
        _process.StandardInput.Close();
        using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(exit.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
        }
        _process.Dispose();
    }

    /// <summary>The <c>bootstrap-server</c> subcommand: serve until standard input closes.</summary>
    public static async Task<int> ServeAsync(string kind, string serverKey, string chain, CancellationToken cancellationToken)
    {
        if (chain is not ("system" or "custom"))
            throw new ArgumentException($"--chain {chain}: system or custom");
        if (kind == "ours" && chain != "system")
            throw new ArgumentException("--chain custom is an experiment on the baseline only; ours runs the product's TLS options");
        using var certificate = BootstrapTest.ServerCertificate(serverKey);
        var hash = Convert.ToHexString(certificate.GetCertHash());
        switch (kind)
        {
            case "baseline":
            {
                await using var server = await BootstrapTest.BaselineServer.StartAsync(certificate, customChainPolicy: chain == "custom");
                Console.WriteLine($"READY {server.Port} {hash}");
                await Console.In.ReadToEndAsync(cancellationToken);
                return 0;
            }
            case "ours":
            {
                using var host = await BootstrapTest.OursAsync(certificate);
                var port = (await host.Services.GetRequiredKeyedService<BootstrapServerEndpoint>("bench").BoundEndpoint).Port;
                Console.WriteLine($"READY {port} {hash}");
                await Console.In.ReadToEndAsync(cancellationToken);
                await host.StopAsync(cancellationToken);
                return 0;
            }
            default:
                throw new ArgumentException($"--kind {kind}: baseline or ours");
        }
    }
}
