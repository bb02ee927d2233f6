using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Onboarding.Accounts.Api;
using Onboarding.Accounts.Data;
using Onboarding.IntegrationTests.Infrastructure;

namespace Onboarding.IntegrationTests;

public class CustomerTests(OnboardingFactory factory) : IClassFixture<OnboardingFactory>
{
    [Fact]
    public async Task Sign_up_returns_the_api_key_once_and_the_profile_is_readable_with_it()
    {
        using var anonymous = factory.CreateClient();
        var response = await anonymous.PostAsJsonAsync("/api/customers",
            new { name = "Nordic Fibre", contactEmail = "ops@nordic.example" });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("/api/customers/me", response.Headers.Location?.OriginalString);
        var created = (await response.Content.ReadFromJsonAsync<SignUpResponse>())!;
        Assert.StartsWith("onb_", created.ApiKey, StringComparison.Ordinal);

        using var client = factory.CreateCustomerClient(created.ApiKey);
        var profile = (await client.GetFromJsonAsync<CustomerProfile>("/api/customers/me"))!;
        Assert.Equal(created.Id, profile.Id);
        Assert.Equal("Nordic Fibre", profile.Name);
        Assert.Equal("ops@nordic.example", profile.ContactEmail);
        Assert.DoesNotContain("apiKey", await client.GetStringAsync("/api/customers/me"), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Api_key_is_stored_only_as_a_hash()
    {
        var (_, customer) = await factory.SignUpAsync();

        using var scope = factory.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AccountsDbContext>();
        var row = await db.Customers.AsNoTracking().SingleAsync(c => c.Id == customer.Id);
        Assert.Equal(32, row.ApiKeyHash.Length);
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(customer.ApiKey)), row.ApiKeyHash);
        Assert.DoesNotContain(customer.ApiKey[^20..], row.ApiKeyId, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_without_api_key_is_401_problem()
    {
        using var anonymous = factory.CreateClient();
        var problem = await Problem.AssertAsync(await anonymous.GetAsync("/api/customers/me"), HttpStatusCode.Unauthorized);
        Assert.Contains("X-Api-Key", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not-a-key")]
    [InlineData("onb_AAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public async Task Wrong_api_key_is_401_problem(string key)
    {
        using var client = factory.CreateCustomerClient(key);
        await Problem.AssertAsync(await client.GetAsync("/api/customers/me"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_valid_key_with_one_character_changed_is_refused()
    {
        var (_, customer) = await factory.SignUpAsync();
        var tampered = customer.ApiKey[..^1] + (customer.ApiKey[^1] == 'A' ? 'B' : 'A');
        using var client = factory.CreateCustomerClient(tampered);
        await Problem.AssertAsync(await client.GetAsync("/api/customers/me"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Sign_up_with_invalid_fields_is_400_with_field_errors()
    {
        using var anonymous = factory.CreateClient();
        var response = await anonymous.PostAsJsonAsync("/api/customers",
            new { name = "", contactEmail = "not an email", notificationWebhookUrl = "https://hooks.example/x" });
        await Problem.AssertValidationAsync(response, "name", "contactEmail", "notificationWebhookUrl");
    }

    [Fact]
    public async Task Sign_up_with_control_characters_or_overlong_name_is_refused()
    {
        using var anonymous = factory.CreateClient();
        await Problem.AssertValidationAsync(
            await anonymous.PostAsJsonAsync("/api/customers", new { name = "Evil\u0000Corp", contactEmail = "a@b.example" }), "name");
        await Problem.AssertValidationAsync(
            await anonymous.PostAsJsonAsync("/api/customers", new { name = new string('x', 201), contactEmail = "a@b.example" }), "name");
    }

    [Fact]
    public async Task Malformed_json_is_400_problem()
    {
        using var anonymous = factory.CreateClient();
        using var content = new StringContent("{\"name\": \"Acme\", ", Encoding.UTF8, "application/json");
        await Problem.AssertAsync(await anonymous.PostAsync("/api/customers", content), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Rotating_the_api_key_makes_the_old_one_stop_working()
    {
        var (client, customer) = await factory.SignUpAsync();
        var rotated = (await (await client.PostAsync("/api/customers/me/api-key", null)).Content.ReadFromJsonAsync<ApiKeyRotated>())!;

        await Problem.AssertAsync(await client.GetAsync("/api/customers/me"), HttpStatusCode.Unauthorized);
        using var fresh = factory.CreateCustomerClient(rotated.ApiKey);
        Assert.Equal(customer.Id, (await fresh.GetFromJsonAsync<CustomerProfile>("/api/customers/me"))!.Id);
    }
}
