using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Serialization;
using MQTTnet;
using MQTTnet.Protocol;

namespace Onboarding.DeviceSim.Telemetry;

internal sealed record SimulationSettings(IReadOnlyList<string> CredentialFiles, int MessagesPerDevice, TimeSpan Interval, string? Host, int? Port);

/// <summary>The parts of the NMS credential JSON a device needs.</summary>
internal sealed record DeviceCredential(
    [property: JsonPropertyName("device_id")] string DeviceId,
    [property: JsonPropertyName("device_name")] long DeviceName,
    [property: JsonPropertyName("broker")] DeviceCredentialBroker Broker,
    [property: JsonPropertyName("certificate_pem")] string CertificatePem,
    [property: JsonPropertyName("private_key_pem")] string PrivateKeyPem,
    [property: JsonPropertyName("ca_certificate_pem")] string CaCertificatePem);

internal sealed record DeviceCredentialBroker(
    [property: JsonPropertyName("host")] string Host,
    [property: JsonPropertyName("port")] int Port);

/// <summary>Runs the simulated devices concurrently, each on its own MQTT 5 connection (MQTTnet) with its own client certificate.</summary>
internal static class TelemetrySimulation
{
    /// <summary>Returns the number of messages the broker acknowledged.</summary>
    public static async Task<int> RunAsync(SimulationSettings settings, TextWriter output, CancellationToken cancellationToken)
    {
        var credentials = new List<DeviceCredential>();
        foreach (var file in settings.CredentialFiles)
        {
            credentials.Add(JsonSerializer.Deserialize<DeviceCredential>(await File.ReadAllTextAsync(file, cancellationToken))
                ?? throw new InvalidDataException($"{file} holds no credential"));
        }

        var counts = await Task.WhenAll(credentials.Select((c, i) => RunDeviceAsync(c, settings, i, output, cancellationToken)));
        return counts.Sum();
    }

    private static async Task<int> RunDeviceAsync(DeviceCredential credential, SimulationSettings settings, int index, TextWriter output,
        CancellationToken cancellationToken)
    {
        using var certificate = X509Certificate2.CreateFromPem(credential.CertificatePem, credential.PrivateKeyPem);
        using var ca = X509Certificate2.CreateFromPem(credential.CaCertificatePem);
        var host = settings.Host ?? credential.Broker.Host;
        // MQTTnet, as a .NET device would publish (DESIGN.md "Protocol libraries"); the NMS's ingester keeps our own client.
        using var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(MqttNetTelemetryClient.Options(host, settings.Port ?? credential.Broker.Port, credential.DeviceId, certificate, ca), cancellationToken);

        var device = new SimulatedDevice(credential.DeviceId, credential.DeviceName, new Random(index));
        var topic = $"devices/{credential.DeviceId}/telemetry";
        try
        {
            while (settings.MessagesPerDevice == 0 || device.Sent < settings.MessagesPerDevice)
            {
                var published = await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(device.NextReading(DateTimeOffset.UtcNow))
                    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken);
                if (!published.IsSuccess)
                    throw new InvalidOperationException($"the broker refused a reading: {published.ReasonCode} {published.ReasonString}");
                if (device.Sent % 10 == 0)
                {
                    lock (output)
                        output.WriteLine($"{credential.DeviceId}: {device.Sent} sent, battery {device.BatteryLevel}");
                }

                if (settings.Interval > TimeSpan.Zero)
                    await Task.Delay(settings.Interval, cancellationToken);
            }

            await client.DisconnectAsync(cancellationToken: cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        return device.Sent;
    }
}
