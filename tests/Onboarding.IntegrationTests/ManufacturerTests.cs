using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Onboarding.Accounts.Api;
using Onboarding.Accounts.Contracts;
using Onboarding.Accounts.Data;
using Onboarding.IntegrationTests.Infrastructure;

namespace Onboarding.IntegrationTests;

public class ManufacturerTests(OnboardingFactory factory) : IClassFixture<OnboardingFactory>
{
    private async Task<ManufacturerAccount?> SftpLoginAsync(string username, string passphrase)
    {
        using var scope = factory.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<IManufacturerAccounts>().AuthenticateAsync(username, passphrase, CancellationToken.None);
    }

    private static async Task<ManufacturerCredentials> RegisterAsync(HttpClient client, string name, string dns = "redirect.vendor.example")
    {
        var response = await client.PostAsJsonAsync("/api/manufacturers", new { name, serverDnsName = dns });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<ManufacturerCredentials>())!;
    }

    [Fact]
    public async Task Registration_issues_sftp_account_with_connection_details_and_fingerprints()
    {
        var (client, customer) = await factory.SignUpAsync();
        var response = await client.PostAsJsonAsync("/api/manufacturers", new { name = "Juniper Networks", serverDnsName = "ztp.juniper.example" });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var issued = (await response.Content.ReadFromJsonAsync<ManufacturerCredentials>())!;
        Assert.Equal($"/api/manufacturers/{issued.ManufacturerId}", response.Headers.Location?.OriginalString);
        Assert.StartsWith("m-juniper-networks-", issued.Username, StringComparison.Ordinal);
        Assert.True(issued.Passphrase.Length >= 32, "passphrase must carry at least 192 bits");
        var sftp = issued.Manufacturer.Sftp;
        Assert.Equal(("nms.test.example", 2222, issued.Username), (sftp.Host, sftp.Port, sftp.Username));
        Assert.Equal(["ssh-ed25519", "ssh-rsa"], sftp.HostKeyFingerprints.Select(f => f.Algorithm));
        Assert.All(sftp.HostKeyFingerprints, f => Assert.Matches("^SHA256:[A-Za-z0-9+/]{43}$", f.Fingerprint));
        Assert.Equal(("nms.test.example", 4334), (issued.Manufacturer.CallHome.Host, issued.Manufacturer.CallHome.Port));
        Assert.True(issued.Manufacturer.Enabled);

        Assert.NotNull(await SftpLoginAsync(issued.Username, issued.Passphrase));
        Assert.Equal(customer.Id, (await SftpLoginAsync(issued.Username, issued.Passphrase))!.CustomerId);
    }

    [Fact]
    public async Task Passphrase_is_never_shown_again_and_is_stored_as_a_salted_slow_hash()
    {
        var (client, _) = await factory.SignUpAsync();
        var issued = await RegisterAsync(client, "Nokia");

        var one = await client.GetStringAsync($"/api/manufacturers/{issued.ManufacturerId}");
        var all = await client.GetStringAsync("/api/manufacturers");
        Assert.DoesNotContain(issued.Passphrase, one, StringComparison.Ordinal);
        Assert.DoesNotContain("passphrase", one, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(issued.Passphrase, all, StringComparison.Ordinal);

        using var scope = factory.Services.CreateScope();
        var row = await scope.ServiceProvider.GetRequiredService<AccountsDbContext>().Manufacturers.AsNoTracking()
            .SingleAsync(m => m.Id == issued.ManufacturerId);
        Assert.StartsWith("pbkdf2-sha512$210000$", row.PassphraseHash, StringComparison.Ordinal);
        Assert.DoesNotContain(issued.Passphrase, row.PassphraseHash, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_and_get_return_the_callers_manufacturers()
    {
        var (client, _) = await factory.SignUpAsync();
        var b = await RegisterAsync(client, "Beta Systems");
        var a = await RegisterAsync(client, "Alpha Devices");

        var list = (await client.GetFromJsonAsync<List<ManufacturerView>>("/api/manufacturers"))!;
        Assert.Equal([a.ManufacturerId, b.ManufacturerId], list.Select(m => m.Id));
        var one = (await client.GetFromJsonAsync<ManufacturerView>($"/api/manufacturers/{a.ManufacturerId}"))!;
        Assert.Equal("Alpha Devices", one.Name);
        Assert.Equal(a.Username, one.Sftp.Username);
    }

    [Fact]
    public async Task Duplicate_name_within_a_customer_is_409_case_insensitively_but_other_customers_may_use_it()
    {
        var (client, _) = await factory.SignUpAsync();
        await RegisterAsync(client, "Ericsson");
        var duplicate = await client.PostAsJsonAsync("/api/manufacturers", new { name = "  ERICSSON ", serverDnsName = "other.example" });
        await Problem.AssertAsync(duplicate, HttpStatusCode.Conflict);

        var (other, _) = await factory.SignUpAsync("Other Telecom");
        await RegisterAsync(other, "Ericsson");
    }

    [Fact]
    public async Task Concurrent_duplicate_registrations_yield_one_created_and_the_rest_conflict()
    {
        var (client, _) = await factory.SignUpAsync();
        var responses = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ =>
            client.PostAsJsonAsync("/api/manufacturers", new { name = "Racy Vendor", serverDnsName = "racy.example" })));
        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.Equal(3, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
    }

    [Theory]
    [InlineData("", "redirect.example", "name")]
    [InlineData("Vendor", "", "serverDnsName")]
    [InlineData("Vendor", "not a host", "serverDnsName")]
    [InlineData("Vendor", "-bad-.example", "serverDnsName")]
    [InlineData("Vendor", "label-that-is-far-too-long-for-dns-because-it-exceeds-sixty-three-chars.example", "serverDnsName")]
    public async Task Invalid_registration_is_400_with_field_errors(string name, string dns, string field)
    {
        var (client, _) = await factory.SignUpAsync();
        await Problem.AssertValidationAsync(await client.PostAsJsonAsync("/api/manufacturers", new { name, serverDnsName = dns }), field);
    }

    [Fact]
    public async Task Rotating_credentials_makes_the_old_passphrase_stop_working()
    {
        var (client, _) = await factory.SignUpAsync();
        var issued = await RegisterAsync(client, "Cisco");

        var response = await client.PostAsync($"/api/manufacturers/{issued.ManufacturerId}/credentials", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var rotated = (await response.Content.ReadFromJsonAsync<ManufacturerCredentials>())!;

        Assert.Equal(issued.Username, rotated.Username);
        Assert.NotEqual(issued.Passphrase, rotated.Passphrase);
        Assert.Null(await SftpLoginAsync(issued.Username, issued.Passphrase));
        Assert.NotNull(await SftpLoginAsync(rotated.Username, rotated.Passphrase));
    }

    [Fact]
    public async Task Disabled_manufacturer_cannot_log_in_until_enabled_again()
    {
        var (client, _) = await factory.SignUpAsync();
        var issued = await RegisterAsync(client, "Huawei");

        var disabled = (await (await client.PostAsync($"/api/manufacturers/{issued.ManufacturerId}/disable", null))
            .Content.ReadFromJsonAsync<ManufacturerView>())!;
        Assert.False(disabled.Enabled);
        Assert.NotNull(disabled.DisabledAt);
        Assert.Null(await SftpLoginAsync(issued.Username, issued.Passphrase));

        var enabled = (await (await client.PostAsync($"/api/manufacturers/{issued.ManufacturerId}/enable", null))
            .Content.ReadFromJsonAsync<ManufacturerView>())!;
        Assert.True(enabled.Enabled);
        Assert.Null(enabled.DisabledAt);
        Assert.NotNull(await SftpLoginAsync(issued.Username, issued.Passphrase));
    }

    [Fact]
    public async Task Unknown_sftp_user_and_wrong_passphrase_are_refused()
    {
        var (client, _) = await factory.SignUpAsync();
        var issued = await RegisterAsync(client, "Arista");
        Assert.Null(await SftpLoginAsync("m-nobody-xxxxxxxx", issued.Passphrase));
        Assert.Null(await SftpLoginAsync(issued.Username, issued.Passphrase + "x"));
        Assert.Null(await SftpLoginAsync(issued.Username, ""));
    }

    [Fact]
    public async Task Unknown_manufacturer_id_is_404_problem()
    {
        var (client, _) = await factory.SignUpAsync();
        await Problem.AssertAsync(await client.GetAsync($"/api/manufacturers/{Guid.NewGuid()}"), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await client.GetAsync("/api/manufacturers/not-a-guid"), HttpStatusCode.NotFound);
    }
}
