using System.Net;
using System.Net.Http.Json;
using Npgsql;
using Onboarding.Accounts.Api;
using Onboarding.Accounts.Contracts;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.Inventory.Contracts;

namespace Onboarding.IntegrationTests;

/// <summary>
/// White paper step 5: the manufacturer view counts its onboarded devices, and a customer who asks for it has the
/// manufacturer's SFTP access closed when the last of its devices is onboarded.
/// </summary>
public class ManufacturerAccessTests(NotificationsFactory factory) : IClassFixture<NotificationsFactory>
{
    [Fact]
    public async Task With_the_policy_on_the_last_onboarded_device_disables_the_manufacturer_and_says_why()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Closing Telecom");
        var url = $"/api/manufacturers/{setup.Credentials.ManufacturerId}";
        var policy = await setup.Customer.PutAsJsonAsync($"{url}/access-policy", new { disableWhenAllDevicesOnboarded = true });
        Assert.True((await policy.Content.ReadFromJsonAsync<ManufacturerView>())!.DisableWhenAllDevicesOnboarded);
        var devices = await NotificationRig.BookkeepAsync(factory.Services, setup, "MA-1", "MA-2", "MA-3");
        await NotificationRig.StepAsync(factory.Services, devices["MA-3"], DeviceState.Rejected, "wrong certificate");

        await NotificationRig.OnboardAsync(factory.Services, devices["MA-1"]);
        await WaitForReviewsAsync(setup.Credentials.ManufacturerId, 1);
        var halfway = (await setup.Customer.GetFromJsonAsync<ManufacturerView>(url))!;
        Assert.Equal((true, new ManufacturerDeviceCount(3, 1, 1)), (halfway.Enabled, halfway.Devices));
        await (await setup.ConnectAsync(factory)).DisposeAsync(); // the manufacturer can still log in

        await NotificationRig.OnboardAsync(factory.Services, devices["MA-2"]);
        await WaitForReviewsAsync(setup.Credentials.ManufacturerId, 2);

        var closed = (await setup.Customer.GetFromJsonAsync<ManufacturerView>(url))!;
        Assert.False(closed.Enabled);
        Assert.NotNull(closed.DisabledAt);
        Assert.Equal(new ManufacturerDeviceCount(3, 2, 1), closed.Devices);
        Assert.StartsWith("disabled automatically: all 2 of its devices are onboarded (1 rejected)", closed.DisabledReason, StringComparison.Ordinal);
        Assert.Contains(factory.Logs.RenderedMessages, m => m.Contains(setup.Credentials.ManufacturerId.ToString(), StringComparison.Ordinal)
            && m.Contains("disabled automatically", StringComparison.Ordinal));
        await Assert.ThrowsAnyAsync<Exception>(async () => await (await setup.ConnectAsync(factory)).DisposeAsync());

        // The customer can open it again; the reason goes with the state it explained.
        var reopened = (await (await setup.Customer.PostAsync($"{url}/enable", null)).Content.ReadFromJsonAsync<ManufacturerView>())!;
        Assert.Equal((true, (string?)null), (reopened.Enabled, reopened.DisabledReason));
    }

    [Fact]
    public async Task By_default_onboarding_every_device_leaves_the_manufacturer_enabled_and_counts_them()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Keeping Telecom");
        var url = $"/api/manufacturers/{setup.Credentials.ManufacturerId}";
        Assert.Equal(new ManufacturerDeviceCount(0, 0, 0), (await setup.Customer.GetFromJsonAsync<ManufacturerView>(url))!.Devices);
        var devices = await NotificationRig.BookkeepAsync(factory.Services, setup, "MK-1", "MK-2");

        foreach (var id in devices.Values)
            await NotificationRig.OnboardAsync(factory.Services, id);
        await WaitForReviewsAsync(setup.Credentials.ManufacturerId, 2);

        var view = (await setup.Customer.GetFromJsonAsync<ManufacturerView>(url))!;
        Assert.Equal((true, false, new ManufacturerDeviceCount(2, 2, 0)), (view.Enabled, view.DisableWhenAllDevicesOnboarded, view.Devices));
        await (await setup.ConnectAsync(factory)).DisposeAsync();
    }

    [Fact]
    public async Task The_policy_needs_a_value_and_belongs_to_the_manufacturers_customer()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Policy Telecom");
        var (other, _) = await factory.SignUpAsync("Other Policy Telecom");
        var url = $"/api/manufacturers/{setup.Credentials.ManufacturerId}";

        await Problem.AssertValidationAsync(await setup.Customer.PutAsJsonAsync($"{url}/access-policy", new { }), "disableWhenAllDevicesOnboarded");
        await Problem.AssertAsync(await other.PutAsJsonAsync($"{url}/access-policy", new { disableWhenAllDevicesOnboarded = true }), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await other.GetAsync(url), HttpStatusCode.NotFound);

        Assert.False((await setup.Customer.GetFromJsonAsync<ManufacturerView>(url))!.DisableWhenAllDevicesOnboarded);
    }

    /// <summary>Waits until the access reviews the device module wrote for this manufacturer have all run.</summary>
    private async Task WaitForReviewsAsync(Guid manufacturerId, int expected)
    {
        await using var db = NpgsqlDataSource.Create(factory.ConnectionString);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            await using var command = db.CreateCommand("""
                SELECT count(*) FILTER (WHERE state = 'done'), count(*) FROM outbox.messages
                WHERE type = @type AND payload->>'manufacturerId' = @id
                """);
            command.Parameters.AddWithValue("type", ManufacturerAccessReview.MessageType);
            command.Parameters.AddWithValue("id", manufacturerId.ToString());
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            var (done, all) = (reader.GetInt64(0), reader.GetInt64(1));
            Assert.True(all <= expected, $"{all} reviews written, expected {expected}");
            if (done == expected)
                return;
            Assert.True(DateTime.UtcNow < deadline, $"{done} of {expected} access reviews done");
            await Task.Delay(100);
        }
    }
}
