using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Onboarding.Accounts.Contracts;
using Onboarding.Bootstrap;
using Onboarding.Inventory.Api;
using Onboarding.NmsBootstrap;

namespace Onboarding.IntegrationTests.Infrastructure;

/// <summary>What the NMS bootstrap server tests share: a customer and manufacturer, devices bookkept over the real SFTP drop.</summary>
public abstract class NmsBootstrapRig(OnboardingFactory factory)
{
    public const string PublicHost = "nms.test.example";

    protected OnboardingFactory Factory { get; } = factory;

    protected INmsBootstrapIdentity Identity => Factory.Services.GetRequiredService<INmsBootstrapIdentity>();

    protected int BootstrapPort => Factory.Services.GetRequiredKeyedService<BootstrapServerEndpoint>(NmsBootstrapModule.ServerName)
        .BoundEndpoint.WaitAsync(TimeSpan.FromSeconds(10)).Result.Port;

    protected async Task<ManufacturerSetup> ManufacturerAsync(string customer, bool registerCa = true, string? callHomeStyle = null)
    {
        var setup = await ManufacturerSetup.CreateAsync(Factory, customer, registerCa);
        if (callHomeStyle is not null)
        {
            var set = await setup.Customer.PutAsJsonAsync($"/api/manufacturers/{setup.Credentials.ManufacturerId}/call-home-style", new { callHomeStyle });
            set.EnsureSuccessStatusCode();
        }

        return setup;
    }

    /// <summary>Uploads the device's record over SFTP, as the redirect server does, and returns the bookkept device.</summary>
    protected async Task<DeviceDetails> BookkeepAsync(ManufacturerSetup setup, string serial, X509Certificate2 certificate)
    {
        await using (var drop = await setup.ConnectAsync(Factory))
            await drop.UploadAsync($"{serial}.xml", DeviceRecordXml.Devices(DeviceRecordXml.Device(serial, setup.Profile.Name, certificate)));
        return (await setup.Customer.GetFromJsonAsync<DeviceDetails>($"/api/devices/{serial}"))!;
    }

    protected BootstrapDevice Device(X509Certificate2 certificate) => new(certificate, PublicHost, BootstrapPort, Identity.RootCertificate);

    protected static async Task<DeviceTimeline> TimelineAsync(ManufacturerSetup setup, Onboarding.Inventory.Contracts.DeviceId id) =>
        (await setup.Customer.GetFromJsonAsync<DeviceTimeline>($"/api/devices/{id}/timeline"))!;
}
