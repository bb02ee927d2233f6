using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Onboarding.Accounts.Api;
using Onboarding.Accounts.Contracts;
using Onboarding.IntegrationTests.Infrastructure;

namespace Onboarding.IntegrationTests;

public class TenantIsolationTests(OnboardingFactory factory) : IClassFixture<OnboardingFactory>
{
    [Theory]
    [InlineData("GET", "")]
    [InlineData("POST", "/credentials")]
    [InlineData("POST", "/disable")]
    [InlineData("POST", "/enable")]
    [InlineData("PUT", "/ca")]
    [InlineData("PUT", "/sftp-public-key")]
    [InlineData("DELETE", "/sftp-public-key")]
    [InlineData("GET", "/uploads")]
    public async Task Customer_A_gets_404_for_every_endpoint_on_customer_Bs_manufacturer(string method, string suffix)
    {
        using var ca = new FactoryCa();
        using var key = Onboarding.Ssh.Keys.SshHostKey.GenerateEd25519();
        var (alice, _) = await factory.SignUpAsync("Alice Telecom");
        var (bob, _) = await factory.SignUpAsync("Bob Telecom");
        var bobs = (await (await bob.PostAsJsonAsync("/api/manufacturers", new { name = "Bob's Vendor", serverDnsName = "vendor.bob.example" }))
            .Content.ReadFromJsonAsync<ManufacturerCredentials>())!;

        using var request = new HttpRequestMessage(new HttpMethod(method), $"/api/manufacturers/{bobs.ManufacturerId}{suffix}");
        // Valid bodies, so that the 404 comes from ownership and not from validation.
        request.Content = suffix switch
        {
            "/ca" when method == "PUT" => JsonContent.Create(new { certificatesPem = ca.Pem }),
            "/sftp-public-key" when method == "PUT" => JsonContent.Create(new { publicKey = key.PublicKey.ToAuthorizedKeysLine() }),
            _ => null,
        };
        var problem = await Problem.AssertAsync(await alice.SendAsync(request), HttpStatusCode.NotFound);
        Assert.DoesNotContain("Bob", problem.ToString(), StringComparison.Ordinal);

        // Nothing of Bob's changed: still listed for Bob only, still enabled, passphrase still valid.
        Assert.Empty((await alice.GetFromJsonAsync<List<ManufacturerView>>("/api/manufacturers"))!);
        var seenByBob = (await bob.GetFromJsonAsync<ManufacturerView>($"/api/manufacturers/{bobs.ManufacturerId}"))!;
        Assert.True(seenByBob.Enabled);
        Assert.Empty(seenByBob.DeviceTrust.CaCertificates);
        Assert.Null(seenByBob.Sftp.PublicKeyFingerprint);
        using var scope = factory.Services.CreateScope();
        var login = await scope.ServiceProvider.GetRequiredService<IManufacturerAccounts>()
            .AuthenticateAsync(bobs.Username, bobs.Passphrase, CancellationToken.None);
        Assert.NotNull(login);
    }
}
