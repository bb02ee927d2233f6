using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Threading.Channels;
using MQTTnet;
using MQTTnet.Exceptions;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace Onboarding.DeviceSim.Telemetry;

/// <summary>
/// A device publishing with MQTTnet, the library a .NET device would use (DESIGN.md "Protocol libraries"; the NMS's
/// ingester keeps our own client): MQTT 5 over TLS with the certificate the NMS issued for the device's own key, client
/// id = serial (the broker forces it). Readings (battery_level, position, signal_date, as <see cref="SimulatedDevice"/>
/// shapes them) go to <c>devices/&lt;serial&gt;/telemetry</c> every interval with QoS 1; the twin arrives, retained, on
/// <c>devices/&lt;serial&gt;/config</c> and each version applied is reported on <c>devices/&lt;serial&gt;/state</c>. A lost
/// connection is dialled again until the device stops.
/// </summary>
internal sealed class MqttNetTelemetryClient : IAsyncDisposable
{
    private readonly TelemetryConfiguration _configuration;
    private readonly X509Certificate2 _certificate;
    private readonly X509Certificate2 _ca;
    private readonly TimeSpan _interval;
    private readonly Action<string> _report;
    private readonly CancellationTokenSource _stop = new();
    private readonly Channel<int> _applied = Channel.CreateUnbounded<int>();
    private Task _run = Task.CompletedTask;
    private int _published;
    private int _appliedVersion = -1;
    private string? _deviceFunction;

    public MqttNetTelemetryClient(TelemetryConfiguration configuration, ECDsa key, TimeSpan interval, Action<string> report)
    {
        _configuration = configuration;
        using var certificate = X509CertificateLoader.LoadCertificate(configuration.Certificate);
        _certificate = certificate.CopyWithPrivateKey(key);
        _ca = X509CertificateLoader.LoadCertificate(configuration.CaCertificate);
        _interval = interval;
        _report = report;
    }

    /// <summary>Readings the broker acknowledged (PUBACK).</summary>
    public int Published => Volatile.Read(ref _published);

    /// <summary>The device_function of the last twin version applied; null before the first.</summary>
    public string? DeviceFunction => Volatile.Read(ref _deviceFunction);

    /// <summary>The last twin version applied and reported; null before the first.</summary>
    public int? AppliedVersion => Volatile.Read(ref _appliedVersion) is var v && v >= 0 ? v : null;

    private string Topic(string leaf) => $"devices/{_configuration.DeviceId}/{leaf}";

    public void Start() => _run = Task.Run(() => RunAsync(_stop.Token));

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var device = new SimulatedDevice(_configuration.DeviceId, _configuration.DeviceName, new Random());
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using var client = new MqttClientFactory().CreateMqttClient();
                client.ApplicationMessageReceivedAsync += e =>
                {
                    Apply(e.ApplicationMessage.Topic, e.ApplicationMessage.ConvertPayloadToString());
                    return Task.CompletedTask;
                };
                await client.ConnectAsync(Options(), cancellationToken);
                _report($"MQTTnet connected to {_configuration.BrokerHost}:{_configuration.BrokerPort} as {_configuration.DeviceId}");
                await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
                    .WithTopicFilter(f => f.WithTopic(Topic("config")).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)).Build(), cancellationToken);
                while (client.IsConnected)
                {
                    // State reports are published here, not in the receive handler: a QoS 1 publish awaited there would wait
                    // for a PUBACK the same receive loop has to deliver.
                    while (_applied.Reader.TryRead(out var version))
                        await PublishAsync(client, Topic("state"), JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, int> { ["applied_version"] = version }), cancellationToken);
                    await PublishAsync(client, Topic("telemetry"), device.NextReading(DateTimeOffset.UtcNow), cancellationToken);
                    Interlocked.Increment(ref _published);
                    using var wake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    wake.CancelAfter(_interval);
                    try
                    {
                        await _applied.Reader.WaitToReadAsync(wake.Token);
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        // The interval passed: the next reading.
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is MqttCommunicationException or InvalidOperationException or IOException or AuthenticationException)
            {
                _report($"MQTTnet: {e.GetType().Name}: {e.Message}; dialling again");
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static async Task PublishAsync(IMqttClient client, string topic, byte[] payload, CancellationToken cancellationToken)
    {
        var result = await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken);
        if (!result.IsSuccess)
            throw new InvalidOperationException($"the broker refused the publish on {topic}: {result.ReasonCode} {result.ReasonString}");
    }

    /// <summary>A twin version: <c>{"version": n, "device_function": "…"}</c> (what the NMS publishes, retained).</summary>
    private void Apply(string topic, string payload)
    {
        if (topic != Topic("config"))
            return;
        try
        {
            using var document = JsonDocument.Parse(payload);
            var version = document.RootElement.GetProperty("version").GetInt32();
            var function = document.RootElement.GetProperty("device_function").GetString();
            Volatile.Write(ref _deviceFunction, function);
            Volatile.Write(ref _appliedVersion, version);
            _applied.Writer.TryWrite(version);
            _report($"device_function is now '{function}' (twin version {version})");
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            _report($"ignored a config message that is not a twin version: {e.Message}");
        }
    }

    private MqttClientOptions Options() =>
        Options(_configuration.BrokerHost, _configuration.BrokerPort, _configuration.DeviceId, _certificate, _ca);

    /// <summary>MQTT 5 over TLS with the device's client certificate; the broker must chain to <paramref name="ca"/>.</summary>
    internal static MqttClientOptions Options(string host, int port, string clientId, X509Certificate2 certificate, X509Certificate2 ca) =>
        new MqttClientOptionsBuilder()
            .WithTcpServer(host, port)
            .WithClientId(clientId)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithCleanStart(true)
            .WithTlsOptions(tls => tls.UseTls()
                .WithTargetHost(host)
                .WithClientCertificates(new X509Certificate2Collection(certificate))
                .WithCertificateValidationHandler(e => TrustedBroker(ca, e.Certificate, e.SslPolicyErrors)))
            .Build();

    /// <summary>The broker's certificate must chain to the CA the NMS handed out (not the system store) and name the host we dialled.</summary>
    private static bool TrustedBroker(X509Certificate2 ca, X509Certificate? presented, SslPolicyErrors errors)
    {
        if (presented is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
            return false;
        using var certificate = X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        return chain.Build(certificate);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _run.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            // A connect stuck in the handshake; the process or test ends it.
        }

        _stop.Dispose();
        _certificate.Dispose();
        _ca.Dispose();
    }
}
