using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Npgsql;
using Onboarding.Telemetry;
using Onboarding.ServiceDefaults.Security;
using Onboarding.Telemetry.Api;
using Onboarding.Telemetry.Broker;
using Onboarding.Telemetry.Pki;

namespace Onboarding.IntegrationTests.Infrastructure;

/// <summary>
/// The host with telemetry on, plus a private mosquitto started from the configuration the host itself generates
/// (the <c>broker-config</c> code path) on free loopback ports. Devices are played by mosquitto_pub.
/// </summary>
public class TelemetryFactory : OnboardingFactory, IAsyncLifetime
{
    public const string AdminApiKey = "test-admin-key-0123456789abcdef";

    private Process? _broker;
    private string _config = "";

    public DirectoryInfo Root { get; } = Directory.CreateTempSubdirectory("onboarding-telemetry-");
    public int DevicePort { get; } = FreePort();
    public int InternalPort { get; } = FreePort();
    public string CaDirectory => Path.Combine(Root.FullName, "ca");
    public string BrokerDirectory => Path.Combine(Root.FullName, "broker");
    public string CaCertificatePath => Path.Combine(CaDirectory, DeviceCertificateAuthority.CertificateFileName);

    /// <summary>The broker's autosave_interval; a test that kills the broker with SIGKILL shortens it.</summary>
    protected TimeSpan BrokerAutosaveInterval { get; init; } = new BrokerOptions().AutosaveInterval;

    /// <summary>mosquitto's persistence file (written at shutdown and every autosave_interval).</summary>
    public string PersistenceFile => Path.Combine(BrokerDirectory, "data", "mosquitto.db");

    public override async Task InitializeAsync()
    {
        var options = new TelemetryOptions
        {
            Enabled = true,
            CaDirectory = CaDirectory,
            Broker = new BrokerOptions
            {
                PublicHost = "localhost",
                DevicePort = DevicePort,
                DeviceBindAddress = "127.0.0.1",
                InternalPort = InternalPort,
                RunAsUser = "root",
                AutosaveInterval = BrokerAutosaveInterval,
            },
        };
        With("Telemetry:Enabled", "true");
        With("Telemetry:CaDirectory", CaDirectory);
        With("Admin:ApiKey", AdminApiKey);
        With("Telemetry:Broker:PublicHost", "localhost");
        With("Telemetry:Broker:DevicePort", DevicePort.ToString(CultureInfo.InvariantCulture));
        With("Telemetry:Broker:InternalPort", InternalPort.ToString(CultureInfo.InvariantCulture));
        With("Telemetry:Broker:PidFile", Path.Combine(BrokerDirectory, "mosquitto.pid"));
        With("Telemetry:Ingestion:FlushInterval", "00:00:00.100");
        With("Telemetry:Ingestion:ClientId", "ingester-" + Guid.NewGuid().ToString("N"));

        using (var ca = DeviceCertificateAuthority.LoadOrCreate(CaDirectory))
            _config = MosquittoConfiguration.Write(options, ca, BrokerDirectory);
        await StartBrokerAsync();
        await base.InitializeAsync();
    }

    /// <summary>A customer with bookkept devices (uploaded through the SFTP drop, as in production).</summary>
    public async Task<ManufacturerSetup> BookkeepAsync(string customer, params string[] serials)
    {
        var setup = await ManufacturerSetup.CreateAsync(this, customer);
        var records = new List<string>();
        foreach (var serial in serials)
        {
            using var certificate = setup.Ca.IssueDevice(serial);
            records.Add(DeviceRecordXml.Device(serial, setup.Profile.Name, certificate));
        }

        await using var drop = await setup.ConnectAsync(this);
        await drop.UploadAsync("devices.xml", DeviceRecordXml.Devices([.. records]));
        return setup;
    }

    public HttpClient CreateAdminClient()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Add(AdminKey.HeaderName, AdminApiKey);
        return client;
    }

    /// <summary>Issues credentials through the admin API and writes them where mosquitto_pub can read them.</summary>
    public async Task<DeviceCredentialFiles> IssueAsync(string serial)
    {
        using var admin = CreateAdminClient();
        var response = await admin.PostAsync($"/api/devices/{serial}/telemetry-credential", null);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        var credential = (await response.Content.ReadFromJsonAsync<TelemetryCredential>())!;
        var directory = Directory.CreateDirectory(Path.Combine(Root.FullName, "devices", serial + "-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        var certificate = Path.Combine(directory, "client.crt");
        var key = Path.Combine(directory, "client.key");
        await File.WriteAllTextAsync(certificate, credential.CertificatePem);
        await File.WriteAllTextAsync(key, credential.PrivateKeyPem);
        return new DeviceCredentialFiles(credential, certificate, key);
    }

    /// <summary>Publishes as a device with its client certificate (QoS 1, MQTT 5).</summary>
    public Task<ExternalTool.Result> PublishAsync(DeviceCredentialFiles device, string topic, string payload) =>
        ExternalTool.RunAsync("mosquitto_pub",
        [
            "-h", "localhost", "-p", DevicePort.ToString(CultureInfo.InvariantCulture), "-V", "mqttv5", "-q", "1",
            "-i", device.Credential.DeviceId + "-" + Guid.NewGuid().ToString("N")[..6],
            "--cafile", CaCertificatePath, "--cert", device.CertificatePath, "--key", device.KeyPath,
            "-t", topic, "-m", payload,
        ], timeout: TimeSpan.FromSeconds(30));

    /// <summary>Subscribes as a device and returns the first message (e.g. a retained config), or fails after <paramref name="waitSeconds"/>.</summary>
    public Task<ExternalTool.Result> ReceiveOneAsync(DeviceCredentialFiles device, string topic, int waitSeconds = 10) =>
        ExternalTool.RunAsync("mosquitto_sub",
        [
            "-h", "localhost", "-p", DevicePort.ToString(CultureInfo.InvariantCulture), "-V", "mqttv5", "-q", "1",
            "-i", device.Credential.DeviceId + "-" + Guid.NewGuid().ToString("N")[..6],
            "--cafile", CaCertificatePath, "--cert", device.CertificatePath, "--key", device.KeyPath,
            "-t", topic, "-C", "1", "-W", waitSeconds.ToString(CultureInfo.InvariantCulture),
        ], timeout: TimeSpan.FromSeconds(30));

    /// <summary>Publishes one message per line over a single connection (mosquitto_pub -l), as a device streaming readings.</summary>
    public Task<ExternalTool.Result> PublishLinesAsync(DeviceCredentialFiles device, string topic, IEnumerable<string> payloads) =>
        ExternalTool.RunAsync("mosquitto_pub",
        [
            "-h", "localhost", "-p", DevicePort.ToString(CultureInfo.InvariantCulture), "-V", "mqttv5", "-q", "1",
            "-i", device.Credential.DeviceId + "-" + Guid.NewGuid().ToString("N")[..6],
            "--cafile", CaCertificatePath, "--cert", device.CertificatePath, "--key", device.KeyPath,
            "-t", topic, "-l",
        ], stdin: string.Join('\n', payloads) + "\n", timeout: TimeSpan.FromSeconds(60));

    /// <summary>Stops mosquitto gracefully (SIGTERM, so it saves its persistent state) and starts it again.</summary>
    public async Task RestartBrokerAsync()
    {
        await StopBrokerAsync();
        await StartBrokerAsync();
    }

    /// <summary>
    /// Starts mosquitto from a copy of its configuration whose internal listener knows another password for the ingester:
    /// devices connect and get PUBACKs, the ingester is refused (and keeps retrying). The window between a broker restart
    /// and the ingester's re-subscribe, held open for as long as a test needs. The listener itself stays the same:
    /// mosquitto ties a restored session to the listener (port) it was on.
    /// </summary>
    public async Task StartBrokerWithoutIngesterAsync()
    {
        var copy = Path.Combine(BrokerDirectory, "mosquitto-without-ingester.conf");
        var passwords = Path.Combine(BrokerDirectory, "internal-away.passwd");
        await File.WriteAllTextAsync(passwords, $"nms-ingester:{MosquittoConfiguration.HashPassword(Guid.NewGuid().ToString("N"))}\n");
        var text = await File.ReadAllTextAsync(_config);
        var line = text.Split('\n').Single(l => l.StartsWith("password_file ", StringComparison.Ordinal));
        await File.WriteAllTextAsync(copy, text.Replace(line, "password_file " + passwords, StringComparison.Ordinal));
        await StartMosquittoAsync(copy);
    }

    /// <summary>Kills mosquitto with SIGKILL, as a crash or power loss would: it saves nothing on the way out.</summary>
    public async Task KillBrokerAsync()
    {
        await ExternalTool.RunAsync("/bin/sh", ["-c", "kill -KILL \"$1\"", "sh", _broker!.Id.ToString(CultureInfo.InvariantCulture)]);
        await _broker.WaitForExitAsync();
        _broker.Dispose();
    }

    public async Task StopBrokerAsync()
    {
        await ExternalTool.RunAsync("/bin/sh", ["-c", "kill -TERM \"$1\"", "sh", _broker!.Id.ToString(CultureInfo.InvariantCulture)]);
        await _broker.WaitForExitAsync();
        _broker.Dispose();
    }

    public async Task<long> CountAsync(string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Polls until <paramref name="condition"/> holds (the ingester flushes every 100 ms).</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Timed out waiting for {what}");
            await Task.Delay(100);
        }
    }

    // Re-implements IAsyncLifetime: WebApplicationFactory's own DisposeAsync would recurse through OnboardingFactory's.
    public new async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_broker is { HasExited: false })
        {
            _broker.Kill();
            await _broker.WaitForExitAsync();
        }

        _broker?.Dispose();
        try
        {
            Root.Delete(recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS temp cleaner.
        }
    }

    public Task StartBrokerAsync() => StartMosquittoAsync(_config);

    private async Task StartMosquittoAsync(string configuration)
    {
        _broker = Process.Start(new ProcessStartInfo("mosquitto", ["-c", configuration])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("mosquitto did not start");
        await WaitForPortAsync(DevicePort);
        await WaitForPortAsync(InternalPort);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task WaitForPortAsync(int port)
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
            catch (SocketException) when (DateTime.UtcNow < deadline && _broker is { HasExited: false })
            {
                await Task.Delay(50);
            }
            catch (SocketException)
            {
                var log = Path.Combine(BrokerDirectory, "mosquitto.log");
                throw new InvalidOperationException($"mosquitto is not listening on {port}: "
                    + (File.Exists(log) ? await File.ReadAllTextAsync(log) : await _broker!.StandardError.ReadToEndAsync()));
            }
        }
    }
}

public sealed record DeviceCredentialFiles(TelemetryCredential Credential, string CertificatePath, string KeyPath);
