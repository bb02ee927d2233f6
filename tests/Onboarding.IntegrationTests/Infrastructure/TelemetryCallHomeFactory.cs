using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Onboarding.CallHome.Listener;
using Onboarding.DeviceSim.CallHome;
using Onboarding.DeviceSim.Telemetry;
using Onboarding.NmsBootstrap.Contracts;
using SimIdentity = Onboarding.DeviceSim.Bootstrap.DeviceIdentity;

namespace Onboarding.IntegrationTests.Infrastructure;

/// <summary>
/// <see cref="TelemetryFactory"/> (the host, PostgreSQL and a private mosquitto) with the call-home listener on a free
/// loopback port and the real pre-configuration, so a simulated device can call home, be onboarded and get its telemetry
/// credential over the same session.
/// </summary>
public sealed class TelemetryCallHomeFactory : TelemetryFactory
{
    public TelemetryCallHomeFactory()
    {
        With("Nms:CallHome:ListenPort", "0");
        With("Nms:CallHome:ListenAddress", "127.0.0.1");
    }

    public int CallHomePort => Services.GetRequiredService<CallHomeListener>().BoundEndpoint.WaitAsync(TimeSpan.FromSeconds(10)).Result.Port;

    public string NmsClientKey => Services.GetRequiredService<INmsCallHomeIdentity>().PublicKeyLine;
}

/// <summary>
/// A DeviceSim device (our SSH server with its NETCONF datastore, RFC 8071) calling the NMS home with its IDevID as an
/// RFC 6187 host key and staying connected (dialling again when the session drops) until stopped.
/// </summary>
internal sealed class CallingDevice : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly string _stateDirectory = Directory.CreateTempSubdirectory("telemetry-callhome-device-").FullName;

    public CallingDevice(TelemetryCallHomeFactory factory, X509Certificate2 idevid, string serial, bool telemetry)
    {
        Device = new CallHomeDevice(new SimIdentity(serial, idevid, []), new CallHomeSettings
        {
            StateDirectory = _stateDirectory,
            NmsHost = "127.0.0.1",
            NmsPort = factory.CallHomePort,
            ClientKey = factory.NmsClientKey,
            HostKey = HostKeySource.IdevId,
            Stay = true,
            Telemetry = telemetry,
            TelemetryInterval = TimeSpan.FromMilliseconds(200),
            BaseDelay = TimeSpan.FromMilliseconds(200),
            MaxDelay = TimeSpan.FromSeconds(2),
            MaxAttempts = 0,
        }, new CallHomeCounters());
        Run = Task.Run(() => Device.RunAsync(_stop.Token));
    }

    public CallHomeDevice Device { get; }

    public TelemetryAgent? Telemetry => Device.Telemetry;

    public Task<CallHomeOutcome> Run { get; }

    /// <summary>Stops the device (it closes its session and its MQTT connection) and returns what it reports.</summary>
    public async Task<CallHomeOutcome> StopAsync()
    {
        await _stop.CancelAsync();
        return await Run.WaitAsync(TimeSpan.FromSeconds(60));
    }

    public async ValueTask DisposeAsync()
    {
        if (!Run.IsCompleted)
        {
            try
            {
                await StopAsync();
            }
            catch (TimeoutException)
            {
            }
        }

        _stop.Dispose();
        Directory.Delete(_stateDirectory, recursive: true);
    }
}

internal static class TelemetrySettingsClient
{
    public static async Task SetAutoCredentialAsync(HttpClient customer, bool on)
    {
        using var response = await customer.PutAsJsonAsync("/api/telemetry/settings", new { autoCredential = on });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }
}
