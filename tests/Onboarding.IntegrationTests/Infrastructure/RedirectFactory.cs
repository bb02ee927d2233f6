using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;

namespace Onboarding.IntegrationTests.Infrastructure;

/// <summary>The real host composed as a redirect server only (<c>Roles=Redirect</c>), on Kestrel and its own database.</summary>
public class RedirectFactory : OnboardingFactory
{
    public RedirectFactory()
    {
        With("Roles:0", "Redirect");
        With("Redirect:FailedAuthenticationPermitLimit", "10000");
        With("Redirect:SignUpPermitLimit", "10000");
    }

    /// <summary>Signs up a manufacturer and returns a client that authenticates as it (X-Manufacturer-Key).</summary>
    public async Task<(HttpClient Client, string ApiKey, Guid Id)> SignUpManufacturerAsync(string name = "Juniper")
    {
        using var anonymous = CreateClient();
        var response = await anonymous.PostAsJsonAsync("/api/redirect/manufacturers", new { name, contactEmail = "factory@vendor.example" });
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var key = body.GetProperty("apiKey").GetString()!;
        var client = CreateClient();
        client.DefaultRequestHeaders.Add("X-Manufacturer-Key", key);
        return (client, key, body.GetProperty("id").GetGuid());
    }

    /// <summary>A hand-off bundle as docs/handoff-bundle.md describes it.</summary>
    public static Dictionary<string, object?> Bundle(string mode = "passphrase", string? passphrase = "correct horse battery staple")
    {
        var fingerprint = "SHA256:" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=');
        return new Dictionary<string, object?>
        {
            ["version"] = 1,
            ["issuedAt"] = "2026-12-02T15:00:00Z",
            ["nms"] = new { customerId = Guid.NewGuid(), customerName = "Acme Telecom", manufacturerId = Guid.NewGuid() },
            ["sftp"] = new
            {
                host = "nms.acme.example",
                port = 2222,
                username = "m-juniper-2k4x9q7a",
                credential = new { mode, passphrase, registerPublicKey = "PUT /api/manufacturers/{id}/sftp-public-key" },
                hostKeys = new[] { new { algorithm = "ssh-ed25519", publicKey = "ssh-ed25519 AAAA", fingerprint } },
            },
            ["bootstrapServer"] = new { url = "https://nms.acme.example:8443", trustAnchor = Convert.ToBase64String([1, 2, 3]) },
            ["callHome"] = new { host = "nms.acme.example", port = 4334 },
            ["somethingNewer"] = "ignored on import",
        };
    }

    public static async Task<Guid> ImportProfileAsync(HttpClient manufacturer, string mode = "passphrase")
    {
        var response = await manufacturer.PostAsJsonAsync("/api/redirect/nms-profiles", Bundle(mode));
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }
}
