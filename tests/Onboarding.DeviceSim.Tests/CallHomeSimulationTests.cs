using System.CommandLine;
using System.Text;
using System.Text.Json;
using Onboarding.DeviceSim.CallHome;
using Onboarding.Netconf.Datastore;
using Onboarding.Ssh.Keys;

namespace Onboarding.DeviceSim.Tests;

/// <summary>N devices at once with the summary and the JSON result file; the command line's refusals.</summary>
public sealed class CallHomeSimulationTests : IDisposable
{
    private readonly CancellationTokenSource _guard = new(TimeSpan.FromMinutes(3));
    private readonly SimulatedFleet _fleet = new(3);
    private readonly TestNms _nms = new();

    [Fact]
    public async Task Three_devices_call_home_at_once_and_each_is_identified_by_its_preamble_and_pinned_key()
    {
        _fleet.Bootstrapped(CallHomeStyle.Junos, _nms.Port);
        var pinned = _fleet.Devices.ToDictionary(d => d.Serial, _fleet.PinnedKey);
        var counters = new CallHomeCounters();
        var run = Task.Run(() => CallHomeSimulation.RunAsync(_fleet.Devices, _fleet.Settings(), 0, counters, _guard.Token));

        var sessions = new List<Task<string>>();
        for (var i = 0; i < 3; i++)
        {
            var socket = await _nms.AcceptAsync(_guard.Token);
            sessions.Add(Task.Run(async () =>
            {
                var (preamble, stream) = await TestNms.ReadPreambleAsync(socket);
                Assert.True(preamble.VerifyHmac(Encoding.UTF8.GetBytes(SimulatedFleet.Secret)));
                var key = pinned[preamble.DeviceId];
                Assert.Equal(key, SshPublicKey.Parse(preamble.HostKeyBlob()));
                await using var ssh = await TestNms.ConnectSshAsync(stream, _fleet.NmsKey, c => c.HostKey.Equals(key));
                using var netconf = await CallHomeTests.OpenNetconfAsync(ssh);
                await netconf.EditConfigAsync(DatastoreName.Candidate, CallHomeTests.HostName(preamble.DeviceId.ToLowerInvariant()));
                await netconf.CommitAsync();
                await netconf.CloseSessionAsync();
                return preamble.DeviceId;
            }));
        }
        Assert.Equal(_fleet.Devices.Select(d => d.Serial).Order(), (await Task.WhenAll(sessions)).Order());

        var (outcomes, summary) = await run;
        Assert.Equal((3, 3, 3, 0), (summary.Devices, summary.Configured, summary.Connected, summary.Failed));
        Assert.Equal((3, 3, 0), (counters.Configured, counters.Finished, counters.Connected));
        foreach (var outcome in outcomes)
            Assert.Contains($"<host-name>{outcome.Serial.ToLowerInvariant()}</host-name>", outcome.RunningConfiguration, StringComparison.Ordinal);

        var file = Path.Combine(_fleet.Root, "result.json");
        await CallHomeSimulation.WriteJsonAsync(file, summary, outcomes);
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(file));
        Assert.Equal(3, json.RootElement.GetProperty("configured").GetInt32());
        Assert.Equal(_fleet.Devices.Select(d => d.Serial), json.RootElement.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("serial").GetString()));
        Assert.All(json.RootElement.GetProperty("results").EnumerateArray(), r => Assert.True(r.GetProperty("ok").GetBoolean()));
    }

    [Fact]
    public async Task Failures_are_summarised_by_reason()
    {
        int port;
        using (var reserve = new TestNms())
            port = reserve.Port;
        var (outcomes, summary) = await CallHomeSimulation.RunAsync(_fleet.Devices,
            _fleet.Settings() with { NmsHost = "127.0.0.1", NmsPort = port, ClientKey = _fleet.NmsKey.PublicKey.ToAuthorizedKeysLine(), MaxAttempts = 2 },
            2, new CallHomeCounters(), _guard.Token);
        Assert.Equal(3, summary.Failed);
        Assert.Equal(new Dictionary<string, int> { ["connect-connection-refused"] = 3 }, summary.FailedByReason);
        Assert.All(outcomes, o => Assert.Equal(2, o.Connections));
        Assert.All(outcomes, o => Assert.Contains("gave up after 2 attempts", o.Detail, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--nms", "nms.example:0")]
    [InlineData("--nms", "[2001:db8::1")]
    [InlineData("--nms-key", "ssh-ed25519 not-base64")]
    [InlineData("--retry-delay", "-1")]
    public async Task Bad_arguments_exit_with_code_2(string option, string value)
    {
        var root = new RootCommand { CallHomeCommands.CallHome() };
        Assert.Equal(2, await root.Parse(["callhome", "-d", _fleet.Root, option, value]).InvokeAsync(cancellationToken: _guard.Token));
    }

    public void Dispose()
    {
        _nms.Dispose();
        _fleet.Dispose();
        _guard.Dispose();
    }
}
