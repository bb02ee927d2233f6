using System.Net.Http.Json;
using Onboarding.Accounts.Api;

namespace Onboarding.IntegrationTests.Infrastructure;

/// <summary>A customer with one registered manufacturer (and its factory CA registered), ready to upload.</summary>
public sealed record ManufacturerSetup(HttpClient Customer, SignUpResponse Profile, ManufacturerCredentials Credentials, FactoryCa Ca)
{
    public IEnumerable<string> Fingerprints => Credentials.Manufacturer.Sftp.HostKeyFingerprints.Select(f => f.Fingerprint);

    public static async Task<ManufacturerSetup> CreateAsync(OnboardingFactory factory, string customerName, bool registerCa = true)
    {
        var (client, profile) = await factory.SignUpAsync(customerName);
        var response = await client.PostAsJsonAsync("/api/manufacturers", new { name = "Acme", serverDnsName = "redirect.acme.example" });
        response.EnsureSuccessStatusCode();
        var credentials = (await response.Content.ReadFromJsonAsync<ManufacturerCredentials>())!;
        var ca = new FactoryCa();
        if (registerCa)
        {
            var set = await client.PutAsJsonAsync($"/api/manufacturers/{credentials.ManufacturerId}/ca", new { certificatesPem = ca.Pem });
            set.EnsureSuccessStatusCode();
        }

        return new ManufacturerSetup(client, profile, credentials, ca);
    }

    public Task<DropClient> ConnectAsync(OnboardingFactory factory, string? passphrase = null) =>
        DropClient.ConnectAsync(factory.SftpPort, Credentials.Username, passphrase ?? Credentials.Passphrase, Fingerprints);

    /// <summary>A known_hosts file pinning the NMS host keys for 127.0.0.1:port, as a manufacturer would write it.</summary>
    public string WriteKnownHosts(int port)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("onboarding-kh-").FullName, "known_hosts");
        File.WriteAllLines(path, Credentials.Manufacturer.Sftp.HostKeyFingerprints.Select(f => $"[127.0.0.1]:{port} {f.PublicKey}"));
        return path;
    }
}
