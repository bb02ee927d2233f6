using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Onboarding.Mqtt.Tests.Interop;

/// <summary>
/// Starts a private mosquitto on free loopback ports with a generated configuration: an anonymous
/// listener, and a listener that requires a user name and password from a generated password file.
/// </summary>
public sealed class MosquittoFixture : IAsyncLifetime
{
    public const string UserName = "ingester";
    public const string Password = "correct horse";

    private Process? _broker;

    public DirectoryInfo Directory { get; } = System.IO.Directory.CreateTempSubdirectory("mosquitto-test-");
    public int AnonymousPort { get; } = FreePort();
    public int PasswordPort { get; } = FreePort();
    public int TlsPort { get; } = FreePort();
    public TestPki Pki { get; } = new();

    public async Task InitializeAsync()
    {
        var passwordFile = Path.Combine(Directory.FullName, "passwd");
        await RunAsync("mosquitto_passwd", ["-b", "-c", passwordFile, UserName, Password]);
        var ca = Path.Combine(Directory.FullName, "ca.crt");
        var serverCert = Path.Combine(Directory.FullName, "server.crt");
        var serverKey = Path.Combine(Directory.FullName, "server.key");
        var acl = Path.Combine(Directory.FullName, "acl");
        await File.WriteAllTextAsync(ca, Pki.Ca.ExportCertificatePem());
        using (var server = Pki.IssueServer("localhost"))
        {
            await File.WriteAllTextAsync(serverCert, server.ExportCertificatePem());
            await File.WriteAllTextAsync(serverKey, TestPki.PrivateKeyPem(server));
        }
        // DESIGN.md "Device identity and trust": one pattern ACL confines every device to its own topics.
        await File.WriteAllTextAsync(acl, "pattern readwrite devices/%u/#\n");
        var config = Path.Combine(Directory.FullName, "mosquitto.conf");
        await File.WriteAllTextAsync(config, $"""
            # Generated for one test run; nothing here touches the system broker.
            user root
            per_listener_settings true
            persistence false
            log_dest file {Path.Combine(Directory.FullName, "mosquitto.log")}
            log_type all
            max_queued_messages 10000

            listener {AnonymousPort} 127.0.0.1
            allow_anonymous true

            listener {PasswordPort} 127.0.0.1
            allow_anonymous false
            password_file {passwordFile}

            listener {TlsPort} 127.0.0.1
            cafile {ca}
            certfile {serverCert}
            keyfile {serverKey}
            require_certificate true
            use_identity_as_username true
            allow_anonymous false
            acl_file {acl}

            """);
        _config = config;
        await StartBrokerAsync();
    }

    private string _config = "";

    private async Task StartBrokerAsync()
    {
        _broker = Process.Start(new ProcessStartInfo("mosquitto", ["-c", _config])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("mosquitto did not start");
        await WaitForPortAsync(AnonymousPort);
        await WaitForPortAsync(PasswordPort);
        await WaitForPortAsync(TlsPort);
    }

    /// <summary>Kills the broker (no persistence: every session and subscription is lost) and starts it again.</summary>
    public async Task RestartAsync(TimeSpan downtime)
    {
        _broker!.Kill();
        await _broker.WaitForExitAsync();
        _broker.Dispose();
        await Task.Delay(downtime);
        await StartBrokerAsync();
    }

    public MqttClientOptions Options(MqttProtocolVersion version, string clientId, bool cleanStart = false, int? port = null) => new()
    {
        Host = "127.0.0.1",
        Port = port ?? AnonymousPort,
        ClientId = clientId,
        ProtocolVersion = version,
        CleanStart = cleanStart,
        ReconnectMinDelay = TimeSpan.FromMilliseconds(50),
        ReconnectMaxDelay = TimeSpan.FromSeconds(1),
    };

    /// <summary>Starts mosquitto_sub and returns once its SUBACK has arrived, so nothing published afterwards is missed.</summary>
    public async Task<SubscriberProcess> StartSubscriberAsync(string topic, int count, MqttProtocolVersion version)
    {
        // stdbuf: mosquitto_sub block-buffers stdout into a pipe, which would hide the SUBACK line.
        var process = Process.Start(new ProcessStartInfo("stdbuf",
            ["-oL", "mosquitto_sub", "-h", "127.0.0.1", "-p", AnonymousPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "-t", topic, "-q", "2", "-C", count.ToString(System.Globalization.CultureInfo.InvariantCulture),
             "-V", version == MqttProtocolVersion.V500 ? "mqttv5" : "mqttv311", "-v", "-d", "-W", "30"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        var subscriber = new SubscriberProcess(process, topic);
        await subscriber.Subscribed.WaitAsync(TimeSpan.FromSeconds(10));
        return subscriber;
    }

    public Task PublishWithMosquittoPubAsync(string topic, string message, int qos, MqttProtocolVersion version = MqttProtocolVersion.V500) =>
        RunAsync("mosquitto_pub", ["-h", "127.0.0.1", "-p", AnonymousPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "-t", topic, "-m", message,
            "-q", qos.ToString(System.Globalization.CultureInfo.InvariantCulture), "-V", version == MqttProtocolVersion.V500 ? "mqttv5" : "mqttv311"]);

    public static async Task RunAsync(string file, string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false })!;
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} exited with {process.ExitCode}: {await stderr}");
    }

    public async Task DisposeAsync()
    {
        if (_broker is { HasExited: false })
        {
            _broker.Kill();
            await _broker.WaitForExitAsync();
        }
        _broker?.Dispose();
        Pki.Dispose();
        try
        {
            Directory.Delete(recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS temp cleaner; not worth failing a test run over.
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task WaitForPortAsync(int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }
}

public sealed class SubscriberProcess : IDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource _subscribed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> _messages = [];
    private readonly Task _pump;

    public SubscriberProcess(Process process, string topic)
    {
        _process = process;
        _pump = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } line)
            {
                if (line.Contains("received SUBACK", StringComparison.Ordinal))
                    _subscribed.TrySetResult();
                else if (line.StartsWith(topic + " ", StringComparison.Ordinal))
                    lock (_messages)
                        _messages.Add(line[(topic.Length + 1)..]);
            }
            _subscribed.TrySetException(new InvalidOperationException("mosquitto_sub exited before SUBACK"));
        });
    }

    public Task Subscribed => _subscribed.Task;

    /// <summary>Waits for mosquitto_sub to exit after its -C count and returns the payloads in arrival order.</summary>
    public async Task<IReadOnlyList<string>> MessagesAsync(TimeSpan timeout)
    {
        await _process.WaitForExitAsync().WaitAsync(timeout);
        await _pump;
        lock (_messages)
            return [.. _messages];
    }

    public void Dispose()
    {
        if (!_process.HasExited)
            _process.Kill();
        _process.Dispose();
    }
}
