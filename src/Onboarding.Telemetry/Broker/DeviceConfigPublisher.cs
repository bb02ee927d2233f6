using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Onboarding.Mqtt;
using Onboarding.Telemetry.Pki;

namespace Onboarding.Telemetry.Broker;

/// <summary>
/// Publishes a device's desired configuration as a retained message on <c>devices/&lt;serial&gt;/config</c>, so the
/// device receives the latest version whenever it (re)subscribes. Connects to the internal listener on first use.
/// </summary>
internal sealed class DeviceConfigPublisher(IOptions<TelemetryOptions> options, IServiceProvider services, ILoggerFactory loggers)
    : IAsyncDisposable
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(10);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private MqttClient? _client;

    /// <summary>What <see cref="PublishAsync"/> and <see cref="DisconnectDeviceAsync"/> throw when the broker is away or refuses.</summary>
    public static bool IsBrokerFailure(Exception ex) =>
        ex is MqttConnectException or MqttRequestException or IOException or System.Net.Sockets.SocketException or TimeoutException;

    public async Task PublishAsync(string serial, int version, string deviceFunction, CancellationToken cancellationToken)
    {
        var client = await ConnectedAsync(cancellationToken);
        // The client would queue a publish until it reconnects; the caller holds the device rows locked meanwhile and
        // must rather hear now that the broker is away.
        if (!client.IsConnected)
            throw new IOException("Not connected to the broker (reconnecting)");
        var payload = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object> { ["version"] = version, ["device_function"] = deviceFunction });
        await client.PublishAsync($"devices/{serial}/config", payload, MqttQualityOfService.AtLeastOnce, retain: true, cancellationToken)
            .WaitAsync(PublishTimeout, cancellationToken);
    }

    /// <summary>
    /// Ends a device's MQTT connection, e.g. after its credentials were revoked: the broker forces each device's client id
    /// to its serial (use_username_as_clientid), so connecting with that client id takes the session over and mosquitto
    /// closes the device's connection (MQTT 5.0 §3.1.4). The device's reconnect then meets the updated CRL.
    /// </summary>
    public async Task DisconnectDeviceAsync(string serial, CancellationToken cancellationToken)
    {
        await using var takeover = new MqttClient(InternalClientOptions(serial, autoReconnect: false), loggers.CreateLogger<MqttClient>());
        await takeover.ConnectAsync(cancellationToken);
        await takeover.DisconnectAsync(cancellationToken);
    }

    private MqttClientOptions InternalClientOptions(string clientId, bool autoReconnect)
    {
        var settings = options.Value;
        return new MqttClientOptions
        {
            Host = settings.Broker.InternalHost,
            Port = settings.Broker.InternalPort,
            ClientId = clientId,
            UserName = settings.Broker.IngesterUserName,
            Password = services.GetRequiredService<DeviceCertificateAuthority>().IngesterSecret,
            CleanStart = true,
            SessionExpiryInterval = 0,
            AutoReconnect = autoReconnect,
        };
    }

    private async Task<MqttClient> ConnectedAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_client is not null)
                return _client;
            var client = new MqttClient(InternalClientOptions($"nms-config-{Guid.NewGuid():N}", autoReconnect: true), loggers.CreateLogger<MqttClient>());
            try
            {
                await client.ConnectAsync(cancellationToken);
            }
            catch
            {
                await client.DisposeAsync();
                throw;
            }

            return _client = client;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
            await _client.DisposeAsync();
        _gate.Dispose();
    }
}
