using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using Onboarding.HostKeys.Contracts;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.Telemetry.Pki;

namespace Onboarding.IntegrationTests;

/// <summary>The key store: where an NMS host generates its host keys and device CA on first start, private to the service user.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class KeyStoreTests
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode PrivateDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    [Fact]
    public async Task First_start_generates_host_keys_and_device_ca_in_the_key_store_0700_with_private_files_0600()
    {
        await using var host = new OnboardingFactory();
        // A store that exists already with a mode wider than 0700 (e.g. made by mkdir under umask 022) is tightened.
        File.SetUnixFileMode(host.KeyStoreDirectory, PrivateDirectory | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        await host.InitializeAsync();

        var hostKeys = Path.Combine(host.KeyStoreDirectory, "ssh-host-keys");
        var ca = Path.Combine(host.KeyStoreDirectory, "telemetry-ca");
        var identity = Path.Combine(host.KeyStoreDirectory, "nms-identity");
        foreach (var directory in new[] { host.KeyStoreDirectory, hostKeys, ca, identity })
            Assert.Equal(PrivateDirectory, File.GetUnixFileMode(directory));
        foreach (var file in new[]
                 {
                     Path.Combine(hostKeys, "ssh_host_ed25519_key"), Path.Combine(hostKeys, "ssh_host_rsa_key"),
                     Path.Combine(ca, DeviceCertificateAuthority.KeyFileName), Path.Combine(ca, DeviceCertificateAuthority.IngesterSecretFileName),
                     Path.Combine(identity, "nms-root-ca.pem"), Path.Combine(identity, "owner.pem"), Path.Combine(identity, "bootstrap-tls.pem"),
                 })
            Assert.Equal(Private, File.GetUnixFileMode(file));
        using var certificate = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(ca, DeviceCertificateAuthority.CertificateFileName));
        Assert.Equal("CN=Onboarding NMS Device CA, O=Onboarding", certificate.Subject);
    }

    [Fact]
    public async Task A_restart_reuses_the_stored_keys_and_regenerates_a_missing_device_ca()
    {
        await using var first = new OnboardingFactory();
        await first.InitializeAsync();
        using var client = first.CreateClient();
        var fingerprints = (await client.GetFromJsonAsync<List<HostKeyFingerprint>>("/api/nms/host-keys"))!;
        var ca = Path.Combine(first.KeyStoreDirectory, "telemetry-ca");
        var firstCa = await File.ReadAllTextAsync(Path.Combine(ca, DeviceCertificateAuthority.CertificateFileName));

        await using (var same = new OnboardingFactory().With("KeyStore:Directory", first.KeyStoreDirectory))
        {
            await same.InitializeAsync();
            using var again = same.CreateClient();
            Assert.Equal(fingerprints, await again.GetFromJsonAsync<List<HostKeyFingerprint>>("/api/nms/host-keys"));
            Assert.Equal(firstCa, await File.ReadAllTextAsync(Path.Combine(ca, DeviceCertificateAuthority.CertificateFileName)));
        }

        Directory.Delete(ca, recursive: true);
        await using var afterLoss = new OnboardingFactory().With("KeyStore:Directory", first.KeyStoreDirectory);
        await afterLoss.InitializeAsync();

        Assert.Equal(Private, File.GetUnixFileMode(Path.Combine(ca, DeviceCertificateAuthority.KeyFileName)));
        Assert.NotEqual(firstCa, await File.ReadAllTextAsync(Path.Combine(ca, DeviceCertificateAuthority.CertificateFileName)));
    }

    [Fact]
    public async Task Explicit_key_directories_override_the_key_store()
    {
        var elsewhere = Directory.CreateTempSubdirectory("onboarding-explicit-").FullName;
        await using var host = new OnboardingFactory()
            .With("HostKeys:Directory", Path.Combine(elsewhere, "host"))
            .With("Telemetry:CaDirectory", Path.Combine(elsewhere, "ca"))
            .With("NmsIdentity:Directory", Path.Combine(elsewhere, "identity"))
            .With("Redirect:DataProtectionDirectory", Path.Combine(elsewhere, "data-protection"))
            .With("Redirect:IdentityDirectory", Path.Combine(elsewhere, "redirect-identity"));
        await host.InitializeAsync();

        Assert.True(File.Exists(Path.Combine(elsewhere, "host", "ssh_host_ed25519_key")));
        Assert.True(File.Exists(Path.Combine(elsewhere, "ca", DeviceCertificateAuthority.KeyFileName)));
        Assert.True(File.Exists(Path.Combine(elsewhere, "identity", "owner.pem")));
        Assert.True(File.Exists(Path.Combine(elsewhere, "redirect-identity", "redirect-root-ca.pem")));
        Assert.Equal(PrivateDirectory, File.GetUnixFileMode(Path.Combine(elsewhere, "ca")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(host.KeyStoreDirectory));
    }
}
