using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Onboarding.IntegrationTests.Infrastructure;

namespace Onboarding.IntegrationTests;

/// <summary>
/// Both roles in one host: a customer's NMS key and a manufacturer's redirect-server key are different credentials with
/// different schemes, and neither opens the other's API, whichever header it is sent in.
/// </summary>
public class RedirectAuthenticationTests(OnboardingFactory factory) : IClassFixture<OnboardingFactory>
{
    [Fact]
    public async Task A_customer_key_is_never_a_manufacturer_key_and_vice_versa()
    {
        var (customer, signUp) = await factory.SignUpAsync();
        using var anonymous = factory.CreateClient();
        var manufacturerSignUp = await anonymous.PostAsJsonAsync("/api/redirect/manufacturers", new { name = "Juniper", contactEmail = "factory@juniper.example" });
        var manufacturerKey = (await manufacturerSignUp.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("apiKey").GetString()!;

        // Each key works where it belongs.
        Assert.Equal(HttpStatusCode.OK, (await customer.GetAsync("/api/customers/me")).StatusCode);
        using var manufacturer = factory.CreateClient();
        manufacturer.DefaultRequestHeaders.Add("X-Manufacturer-Key", manufacturerKey);
        Assert.Equal(HttpStatusCode.OK, (await manufacturer.GetAsync("/api/redirect/manufacturers/me")).StatusCode);

        // The customer's key, in either header, opens nothing at the redirect server.
        await Problem.AssertAsync(await customer.GetAsync("/api/redirect/manufacturers/me"), HttpStatusCode.Unauthorized);
        await Problem.AssertAsync(await customer.GetAsync("/api/redirect/orders"), HttpStatusCode.Unauthorized);
        using var customerAsManufacturer = factory.CreateClient();
        customerAsManufacturer.DefaultRequestHeaders.Add("X-Manufacturer-Key", signUp.ApiKey);
        await Problem.AssertAsync(await customerAsManufacturer.GetAsync("/api/redirect/nms-profiles"), HttpStatusCode.Unauthorized);

        // The manufacturer's key, in either header, opens nothing at the NMS.
        await Problem.AssertAsync(await manufacturer.GetAsync("/api/customers/me"), HttpStatusCode.Unauthorized);
        await Problem.AssertAsync(await manufacturer.GetAsync("/api/manufacturers"), HttpStatusCode.Unauthorized);
        using var manufacturerAsCustomer = factory.CreateCustomerClient(manufacturerKey);
        await Problem.AssertAsync(await manufacturerAsCustomer.GetAsync("/api/customers/me"), HttpStatusCode.Unauthorized);
        await Problem.AssertAsync(await manufacturerAsCustomer.GetAsync("/api/devices"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Swagger_documents_the_redirect_api_next_to_the_nms_api()
    {
        using var client = factory.CreateClient();
        using var document = JsonDocument.Parse(await client.GetStringAsync("/swagger/v1/swagger.json"));
        var paths = document.RootElement.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/api/redirect/orders/bulk", paths);
        Assert.Contains("/api/redirect/nms-profiles", paths);
        Assert.Contains("/api/customers", paths);

        // Swagger UI sends the manufacturer key in its own header for the redirect API, the customer key for the NMS API.
        var schemes = document.RootElement.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("X-Manufacturer-Key", schemes.GetProperty("ManufacturerKey").GetProperty("name").GetString());
        Assert.Equal("X-Api-Key", schemes.GetProperty("ApiKey").GetProperty("name").GetString());
        string Scheme(string path, string method) => document.RootElement.GetProperty("paths").GetProperty(path).GetProperty(method)
            .GetProperty("security")[0].EnumerateObject().Single().Name;
        Assert.Equal("ManufacturerKey", Scheme("/api/redirect/orders", "get"));
        Assert.Equal("ManufacturerKey", Scheme("/api/redirect/manufacturers/me", "get"));
        Assert.Equal("ApiKey", Scheme("/api/manufacturers", "get"));
        Assert.False(document.RootElement.GetProperty("paths").GetProperty("/api/redirect/manufacturers").GetProperty("post").TryGetProperty("security", out _));
    }
}
