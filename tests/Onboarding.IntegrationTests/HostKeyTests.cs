using System.Diagnostics;
using System.Net.Http.Json;
using Onboarding.HostKeys.Contracts;
using Onboarding.IntegrationTests.Infrastructure;

namespace Onboarding.IntegrationTests;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class HostKeyTests(OnboardingFactory factory) : IClassFixture<OnboardingFactory>
{
    [Fact]
    public async Task Host_keys_are_generated_with_0600_and_fingerprints_match_ssh_keygen()
    {
        using var client = factory.CreateClient();
        var keys = (await client.GetFromJsonAsync<List<HostKeyFingerprint>>("/api/nms/host-keys"))!;
        Assert.Equal(["ssh-ed25519", "ssh-rsa"], keys.Select(k => k.Algorithm));

        foreach (var (file, key, bits) in new[] { ("ssh_host_ed25519_key", keys[0], "256"), ("ssh_host_rsa_key", keys[1], "3072") })
        {
            var path = Path.Combine(factory.KeyDirectory, file);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));

            // ssh-keygen reads both our private key file and our public key file and prints the same fingerprint.
            foreach (var candidate in new[] { path, path + ".pub" })
            {
                var printed = await SshKeygenAsync("-lf", candidate);
                Assert.StartsWith($"{bits} {key.Fingerprint} ", printed, StringComparison.Ordinal);
            }

            Assert.Equal(key.PublicKey, string.Join(' ', (await SshKeygenAsync("-yf", path)).Trim().Split(' ').Take(2)));
        }
    }

    [Fact]
    public async Task Host_keys_are_reused_after_a_restart()
    {
        using var client = factory.CreateClient();
        var before = (await client.GetFromJsonAsync<List<HostKeyFingerprint>>("/api/nms/host-keys"))!;

        await using var restarted = new OnboardingFactory();
        restarted.With("HostKeys:Directory", factory.KeyDirectory);
        await restarted.InitializeAsync();
        using var again = restarted.CreateClient();
        var after = (await again.GetFromJsonAsync<List<HostKeyFingerprint>>("/api/nms/host-keys"))!;
        Assert.Equal(before, after);
    }

    internal static async Task<string> SshKeygenAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("ssh-keygen") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments)
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"ssh-keygen {string.Join(' ', arguments)} failed: {error}");
        return output;
    }
}
