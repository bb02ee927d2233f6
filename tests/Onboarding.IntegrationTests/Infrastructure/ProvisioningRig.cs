using System.Net.Http.Json;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Onboarding.Inventory.Api;
using Onboarding.Inventory.Contracts;
using Onboarding.Provisioning.Contracts;
using Onboarding.Ssh;

namespace Onboarding.IntegrationTests.Infrastructure;

/// <summary>
/// What the pre-configuration tests share: a customer, devices bookkept over the real SFTP drop and moved to CalledHome
/// through the device lifecycle (as bootstrap and call home would), templates over the API, and
/// <see cref="IPreconfiguration"/> resolved the way the call-home module resolves it.
/// </summary>
public abstract class ProvisioningRig(OnboardingFactory factory) : NmsBootstrapRig(factory)
{
    protected async Task<DeviceIdentity> CalledHomeDeviceAsync(ManufacturerSetup setup, string serial, string model = "MX204")
    {
        using var certificate = setup.Ca.IssueDevice(serial);
        await using (var drop = await setup.ConnectAsync(Factory))
            await drop.UploadAsync($"{serial}.xml", DeviceRecordXml.Devices(DeviceRecordXml.Device(serial, setup.Profile.Name, certificate, model)));
        var bookkept = (await setup.Customer.GetFromJsonAsync<DeviceDetails>($"/api/devices/{serial}"))!;
        await StepAsync(bookkept.Id, DeviceState.Bootstrapping);
        await StepAsync(bookkept.Id, DeviceState.CalledHome);
        return await DeviceAsync(bookkept.Id);
    }

    protected async Task StepAsync(DeviceId id, DeviceState state)
    {
        using var scope = Factory.Services.CreateScope();
        await scope.ServiceProvider.GetRequiredService<IDeviceLifecycle>().RecordStepAsync(id, new DeviceStep(state, "test:lifecycle", "moved by the test"), CancellationToken.None);
    }

    protected async Task<DeviceIdentity> DeviceAsync(DeviceId id)
    {
        using var scope = Factory.Services.CreateScope();
        return (await scope.ServiceProvider.GetRequiredService<IDeviceDirectory>().GetAsync(id, CancellationToken.None))!;
    }

    protected static async Task PutTemplateAsync(ManufacturerSetup setup, string deviceType, string kind, string body)
    {
        var response = await setup.Customer.PutAsJsonAsync($"/api/preconfiguration/templates/{deviceType}", new { kind, body });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    protected async Task<PreconfigurationOutcome> ApplyAsync(DeviceIdentity device, SshClientSession session)
    {
        using var scope = Factory.Services.CreateScope();
        var preconfiguration = scope.ServiceProvider.GetRequiredService<IPreconfiguration>();
        return await preconfiguration.ApplyAsync(device, session, "call-home:test", CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(3));
    }

    protected static async Task<Socket> ConnectAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(System.Net.IPAddress.Loopback, port);
        return socket;
    }
}
