using System.Net.Http.Json;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Onboarding.Inventory.Contracts;
using Onboarding.Notifications.Api;
using Onboarding.Notifications.Contracts;
using Onboarding.ServiceDefaults.Http;

namespace Onboarding.IntegrationTests.Infrastructure;

/// <summary>
/// Devices bookkept through the device module's contract and walked through the lifecycle with
/// <see cref="IDeviceLifecycle"/> (Bookkept → Bootstrapping → CalledHome → Configured → Onboarded), as call home will.
/// </summary>
internal static class NotificationRig
{
    public static async Task<Dictionary<string, DeviceId>> BookkeepAsync(IServiceProvider services, ManufacturerSetup setup, params string[] serials)
    {
        var records = new List<string>();
        foreach (var serial in serials)
        {
            using var certificate = setup.Ca.IssueDevice(serial);
            records.Add(DeviceRecordXml.Device(serial, setup.Profile.Name, certificate));
        }

        using var scope = services.CreateScope();
        var outcome = await scope.ServiceProvider.GetRequiredService<IDeviceBookkeeping>().BookkeepAsync(setup.Credentials.ManufacturerId, "devices.xml",
            "test:bookkeeping", Encoding.UTF8.GetBytes(DeviceRecordXml.Devices([.. records])), CancellationToken.None);
        Assert.True(outcome.Accepted, outcome.Summary);
        var directory = scope.ServiceProvider.GetRequiredService<IDeviceDirectory>();
        var devices = new Dictionary<string, DeviceId>();
        foreach (var serial in serials)
            devices[serial] = (await directory.FindAsync(setup.Profile.Id, serial, CancellationToken.None))!.Id;
        return devices;
    }

    public static async Task StepAsync(IServiceProvider services, DeviceId id, DeviceState target, string detail = "test step")
    {
        using var scope = services.CreateScope();
        await scope.ServiceProvider.GetRequiredService<IDeviceLifecycle>().RecordStepAsync(id, new DeviceStep(target, "test:lifecycle", detail), CancellationToken.None);
    }

    public static async Task OnboardAsync(IServiceProvider services, DeviceId id)
    {
        foreach (var state in new[] { DeviceState.Bootstrapping, DeviceState.CalledHome, DeviceState.Configured, DeviceState.Onboarded })
            await StepAsync(services, id, state, state == DeviceState.Onboarded ? "pre-configuration committed" : $"reached {state}");
    }

    public static async Task<WebhookView> SetWebhookAsync(HttpClient customer, string url)
    {
        var response = await customer.PutAsJsonAsync("/api/notifications/webhook", new { url });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<WebhookView>())!;
    }

    public static async Task<List<NotificationView>> ListAsync(HttpClient customer, string query = "") =>
        [.. (await customer.GetFromJsonAsync<PagedList<NotificationView>>($"/api/notifications?pageSize=500{query}"))!.Items];

    /// <summary>Polls the customer's notifications until <paramref name="done"/> holds (a bound on waiting, not a timing assertion).</summary>
    public static async Task<List<NotificationView>> WaitForAsync(HttpClient customer, Func<List<NotificationView>, bool> done, string? why = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var items = await ListAsync(customer);
            if (done(items))
                return items;
            Assert.True(DateTime.UtcNow < deadline,
                $"{why ?? "notifications"} not as expected: {string.Join("; ", items.Select(i => $"{i.Channel} {i.Event} {i.SerialNumber} {i.Status} x{i.Attempts.Count} {i.LastError}"))}");
            await Task.Delay(100);
        }
    }

    public static NotificationView Webhook(this List<NotificationView> items, string serial) =>
        Assert.Single(items, i => i.Channel == NotificationChannel.Webhook && i.SerialNumber == serial);
}
