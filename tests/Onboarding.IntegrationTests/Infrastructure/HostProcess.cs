using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Onboarding.IntegrationTests.Infrastructure;

/// <summary>
/// The built host (src/Onboarding.Host/bin/&lt;configuration&gt;/net10.0/Onboarding.Host.dll) as a real child process,
/// configured through environment variables, so a test can kill it with SIGKILL and start it again.
/// </summary>
internal sealed class HostProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private HostProcess(Process process, int httpPort, int sftpPort, IReadOnlyDictionary<string, string> settings)
    {
        _process = process;
        Settings = settings;
        HttpPort = httpPort;
        SftpPort = sftpPort;
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int HttpPort { get; }

    public int SftpPort { get; }

    /// <summary>The settings the host was started with (e.g. the ports <see cref="StartBothRolesAsync"/> chose).</summary>
    public IReadOnlyDictionary<string, string> Settings { get; }

    public int ProcessId => _process.Id;

    public Uri BaseAddress => new($"http://127.0.0.1:{HttpPort}");

    /// <summary>The last lines the host printed, for a failing assertion's message.</summary>
    public string Output => string.Join('\n', _output);

    /// <summary>The repository checkout the tests were built from (the directory holding <c>src/Onboarding.Host</c>).</summary>
    public static string RepositoryRoot
    {
        get
        {
            // The test assembly runs from tests/Onboarding.IntegrationTests/bin/<configuration>/net10.0/.
            var root = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            while (root is not null && !Directory.Exists(Path.Combine(root.FullName, "src", "Onboarding.Host")))
                root = root.Parent;
            return root?.FullName ?? throw new DirectoryNotFoundException($"no src/Onboarding.Host above {AppContext.BaseDirectory}");
        }
    }

    public static string HostDll
    {
        get
        {
            var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
            var dll = Path.Combine(RepositoryRoot, "src", "Onboarding.Host", "bin", configuration, "net10.0", "Onboarding.Host.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException($"Build the host first (dotnet build src/Onboarding.Host -c {configuration}).", dll);
        }
    }

    /// <summary>
    /// The host with both roles as <c>./run.sh</c> runs it for a walk or the demo: a fresh database, the key store in
    /// <paramref name="keyStoreDirectory"/>, every device-facing port on a free port known before the start (the NMS
    /// hands them out), and loopback webhooks allowed (what README tells the reader to start it with for its receiver).
    /// </summary>
    public static async Task<HostProcess> StartBothRolesAsync(string databaseName, string keyStoreDirectory, IReadOnlyDictionary<string, string>? extra = null)
    {
        var database = await (await PostgresServer.Instance).CreateEmptyDatabaseAsync(databaseName);
        var sftp = FreePort().ToString(CultureInfo.InvariantCulture);
        var bootstrap = FreePort().ToString(CultureInfo.InvariantCulture);
        var callHome = FreePort().ToString(CultureInfo.InvariantCulture);
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings:Onboarding"] = database,
            ["KeyStore:Directory"] = keyStoreDirectory,
            ["Drop:Port"] = sftp,
            ["Nms:SftpPort"] = sftp,
            ["Nms:BootstrapPort"] = bootstrap,
            ["Nms:Bootstrap:ListenPort"] = bootstrap,
            ["Nms:CallHomePort"] = callHome,
            ["Nms:CallHome:ListenPort"] = callHome,
            ["Notifications:AllowHttpWebhooks"] = "true",
            ["Notifications:AllowPrivateNetworkWebhooks"] = "true",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
            settings[key] = value;
        return await StartAsync(settings);
    }

    public static async Task<HostProcess> StartAsync(IReadOnlyDictionary<string, string> settings)
    {
        var dll = HostDll;
        var httpPort = FreePort();
        // A test that must know the SFTP port before the start (to hand it out as Nms:SftpPort) sets Drop:Port itself.
        var sftpPort = settings.TryGetValue("Drop:Port", out var port) ? int.Parse(port, CultureInfo.InvariantCulture) : FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        start.Environment["Urls"] = $"http://127.0.0.1:{httpPort}";
        start.Environment["Drop__Port"] = sftpPort.ToString(CultureInfo.InvariantCulture);
        start.Environment["Drop__ListenAddress"] = "127.0.0.1";
        start.Environment["Nms__Bootstrap__ListenPort"] = "0";
        start.Environment["Nms__Bootstrap__ListenAddress"] = "127.0.0.1";
        start.Environment["Nms__CallHome__ListenPort"] = "0";
        start.Environment["Nms__CallHome__ListenAddress"] = "127.0.0.1";
        start.Environment["Redirect__Bootstrap__Port"] = "0";
        start.Environment["Redirect__Bootstrap__ListenAddress"] = "127.0.0.1";
        foreach (var (key, value) in settings)
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;

        var host = new HostProcess(Process.Start(start) ?? throw new InvalidOperationException("could not start the host"), httpPort, sftpPort, settings);
        await host.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
        return host;
    }

    /// <summary>SIGKILL: the host gets no chance to finish anything, as in a power cut or an OOM kill.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
            await KillAsync();
        _process.Dispose();
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"the host exited with {_process.ExitCode}:\n{Output}");
            try
            {
                using var response = await http.GetAsync("/health/live");
                using var sftp = new TcpClient();
                if (response.IsSuccessStatusCode)
                {
                    await sftp.ConnectAsync(IPAddress.Loopback, SftpPort);
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or SocketException or TaskCanceledException)
            {
                // Not listening yet.
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"the host did not become ready in {timeout}:\n{Output}");
    }

    private void Keep(string? line)
    {
        if (line is null)
            return;
        _output.Enqueue(line);
        while (_output.Count > 200)
            _output.TryDequeue(out _);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
