using System.Globalization;
using System.Text.RegularExpressions;
using Onboarding.IntegrationTests.Infrastructure;

namespace Onboarding.IntegrationTests;

/// <summary>
/// Keeps README.md true: its "Walk" shell block, taken from the README as it stands, runs under bash against the built
/// host as a child process (both roles, one fresh database, the settings the walk tells the reader to start it with)
/// and must take every device through bootstrap and call home to Onboarded, with the owner's webhook signed and received.
/// </summary>
public sealed partial class ReadmeWalkTests : IDisposable
{
    private const string SimulatorLine = "sim=\"dotnet run --project tools/Onboarding.DeviceSim --\"";

    private readonly string _dir = Directory.CreateTempSubdirectory("onboarding-walk-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task The_README_walk_runs_as_written_and_every_device_ends_Onboarded_with_the_owner_notified()
    {
        var root = HostProcess.RepositoryRoot;
        var walk = WalkBlock(await File.ReadAllTextAsync(Path.Combine(root, "README.md")));
        // The one line changed: the simulator these tests were built with, instead of a nested `dotnet run` build.
        Assert.Contains(SimulatorLine, walk, StringComparison.Ordinal);
        var simulator = Path.Combine(AppContext.BaseDirectory, "Onboarding.DeviceSim.dll");
        var script = Path.Combine(_dir, "walk.sh");
        await File.WriteAllTextAsync(script, $"set -eo pipefail\ncd '{root}'\n" + walk.Replace(SimulatorLine, $"sim=\"dotnet {simulator}\"", StringComparison.Ordinal));

        await using var host = await HostProcess.StartBothRolesAsync("readmewalk", Path.Combine(_dir, "keys"),
            new Dictionary<string, string> { ["Redirect:Handoff:AnswerWithin"] = "00:01:00" });
        var bootstrap = host.Settings["Nms:BootstrapPort"];

        var run = await ExternalTool.RunAsync("bash", ["-x", script], timeout: TimeSpan.FromMinutes(8),
            environment: new Dictionary<string, string>
            {
                ["API"] = host.BaseAddress.ToString().TrimEnd('/'),
                ["HOOK_PORT"] = HostProcess.FreePort().ToString(CultureInfo.InvariantCulture),
            });

        // Spectre.Console wraps long lines when the output is not a terminal: read the output as one line of words.
        var output = Whitespace().Replace(run.Stdout, " ");
        var failure = $"exit {run.ExitCode}\n{run.Stdout}\n{Tail(run.Stderr)}\nhost:\n{host.Output}";
        Assert.True(run.ExitCode == 0, failure);
        Assert.Contains("{\"created\":5}", output, StringComparison.Ordinal);
        var serials = Enumerable.Range(1, 5).Select(i => $"WALK{i:D6}").ToList();
        foreach (var serial in serials)
        {
            // Both simulator runs, the unsigned and the signed one, then the order at the redirect server and the device at the NMS.
            Assert.True(Regex.Count(output, $"{serial}: ok via localhost:\\d+ → localhost:{bootstrap},") == 2, failure);
            Assert.Contains($"{serial} Redirected", output, StringComparison.Ordinal);
            Assert.Contains($"{serial} Onboarded", output, StringComparison.Ordinal);
            // Call home: the simulator's datastore holds the rendered template; the owner got one signed webhook.
            Assert.Contains($"{serial}: configured after ", output, StringComparison.Ordinal);
            Assert.Contains($"{serial} running: ", output, StringComparison.Ordinal);
            Assert.Contains($"<hostname>{serial}</hostname><contact>Acme Telecom</contact>", output, StringComparison.Ordinal);
            Assert.True(Regex.Count(output, $"valid signature: device.onboarded {serial} Configured → Onboarded") == 1, failure);
            Assert.Contains($"{serial} Webhook device.onboarded Delivered", output, StringComparison.Ordinal);
        }

        Assert.Contains("5 devices in ", output, StringComparison.Ordinal);
        Assert.Contains(": 5 reached the NMS, 5 configured, 0 failed;", output, StringComparison.Ordinal);
        Assert.DoesNotContain("INVALID signature", output, StringComparison.Ordinal);
        // WALK000001's timeline goes on from bootstrap-complete through call home and pre-configuration.
        Assert.Matches("CalledHome called home, identified by .* Configured netconf: .* Onboarded netconf: verified with get-config", output);

        Assert.Equal(5, Regex.Count(output, "redirect-information from localhost:\\d+ \\(signed: voucher, owner certificate and signature verified; TLS not trusted\\)"));
        Assert.Equal(5, Regex.Count(output, "redirect-information from localhost:\\d+ \\(unsigned; TLS authenticated\\)"));
        Assert.Matches("Ordered bulk order Authenticated certificate SHA-256 [0-9A-F]{64} from 127\\.0\\.0\\.1:\\d+ HandedOff bookkept by the NMS", output);
        Assert.Equal(2, Regex.Count(output, "Bootstrapping report-progress bootstrap-complete: DeviceSim bootstrapped \\(SSH host keys pinned: ssh-ed25519 SHA256:"));
        Assert.Contains("{\"algorithm\":\"ssh-ed25519\",\"fingerprint\":\"SHA256:", output, StringComparison.Ordinal);
    }

    /// <summary>The first <c>```sh</c> block after the "## Walk" heading.</summary>
    private static string WalkBlock(string readme)
    {
        var section = readme.IndexOf("\n## Walk", StringComparison.Ordinal);
        Assert.True(section >= 0, "README.md has no \"## Walk\" section");
        var start = readme.IndexOf("```sh\n", section, StringComparison.Ordinal) + "```sh\n".Length;
        var end = readme.IndexOf("\n```", start, StringComparison.Ordinal);
        return readme[start..end] + "\n";
    }

    private static string Tail(string text) => text.Length <= 4000 ? text : text[^4000..];

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
