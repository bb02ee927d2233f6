using System.Xml.Linq;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.Inventory.Contracts;
using Onboarding.Netconf;
using Onboarding.Netconf.Datastore;
using Onboarding.Provisioning.Contracts;

namespace Onboarding.IntegrationTests;

/// <summary>
/// Pre-configuration against real peers: yuma123 <c>netconfd</c> behind OpenSSH <c>sshd</c> and its
/// <c>netconf-subsystem</c> (netconf templates, ietf-system, which netconfd loads), and <c>sshd</c>'s exec of real
/// commands (cli templates). The result is read back over a fresh session, independently of the verification.
/// </summary>
public class PreconfigurationInteropTests(OnboardingFactory factory, OpenSshNetconfDevice device)
    : ProvisioningRig(factory), IClassFixture<OnboardingFactory>, IClassFixture<OpenSshNetconfDevice>
{
    private static readonly XNamespace Sys = "urn:ietf:params:xml:ns:yang:ietf-system";

    [Fact]
    public async Task Netconfd_is_configured_through_candidate_and_commit_and_verified()
    {
        var setup = await ManufacturerAsync("Netconfd & Sons <noc>");
        await PutTemplateAsync(setup, "MX204", "netconf",
            $"<config><system xmlns=\"{Sys.NamespaceName}\"><hostname>{{{{serial}}}}</hostname><contact>{{{{customer}}}}</contact>"
            + "<location>{{manufacturer}} {{model}} at {{address}}</location></system></config>");
        var called = await CalledHomeDeviceAsync(setup, "nd-1");

        PreconfigurationOutcome outcome;
        await using (var session = await device.ConnectAsync())
            outcome = await ApplyAsync(called, session);

        Assert.True(outcome.Succeeded, outcome.Detail + "\n" + device.SshdLog);
        Assert.Equal(DeviceState.Onboarded, outcome.State);
        var timeline = await TimelineAsync(setup, called.Id);
        Assert.Contains("lock candidate, edit-config to candidate, commit, unlock", timeline.Steps.Single(s => s.State == DeviceState.Configured).Detail, StringComparison.Ordinal);
        Assert.Contains("subtree filter <system>", timeline.Steps[^1].Detail, StringComparison.Ordinal);

        // Read back on our own: what netconfd holds in running, values unescaped.
        await using var check = await device.ConnectAsync();
        var channel = await check.OpenSessionAsync();
        Assert.True(await channel.RequestSubsystemAsync("netconf"));
        using var netconf = await NetconfClientSession.ConnectAsync(channel.AsStream()).WaitAsync(TimeSpan.FromSeconds(60));
        var system = (await netconf.GetConfigAsync(DatastoreName.Running, new XElement(Sys + "system"))).Element(Sys + "system")!;
        Assert.Equal("nd-1", system.Element(Sys + "hostname")!.Value);
        Assert.Equal("Netconfd & Sons <noc>", system.Element(Sys + "contact")!.Value);
        Assert.Equal("Acme MX204 at 127.0.0.1", system.Element(Sys + "location")!.Value);
        await netconf.CloseSessionAsync();
    }

    [Fact]
    public async Task Netconfds_rpc_error_for_an_unknown_leaf_is_on_the_timeline_and_the_device_stays_called_home()
    {
        var setup = await ManufacturerAsync("Netconfd Unknown Leaf Telecom");
        await PutTemplateAsync(setup, "MX204", "netconf", $"<config><system xmlns=\"{Sys.NamespaceName}\"><no-such-leaf>{{{{serial}}}}</no-such-leaf></system></config>");
        var called = await CalledHomeDeviceAsync(setup, "nd-2");

        await using var session = await device.ConnectAsync();
        var outcome = await ApplyAsync(called, session);

        Assert.False(outcome.Succeeded);
        Assert.Equal(DeviceState.CalledHome, outcome.State);
        var failure = (await TimelineAsync(setup, called.Id)).Steps[^1];
        Assert.Equal(DeviceState.CalledHome, failure.State);
        Assert.Contains("edit-config to candidate refused by the device", failure.Detail, StringComparison.Ordinal);
        Assert.Matches("unknown-element|unknown-namespace|bad-element", failure.Detail);
    }

    [Fact]
    public async Task Cli_commands_run_over_sshd_exec_in_order_and_the_device_is_onboarded()
    {
        var setup = await ManufacturerAsync("Cli Shell Telecom");
        var dir = Path.Combine(device.Directory, "cli-ok");
        await PutTemplateAsync(setup, "MX204", "cli", $"mkdir -p {dir}/{{{{serial}}}}\n\nprintf '%s' '{{{{customer}}}} {{{{address}}}}' > {dir}/{{{{serial}}}}/owner\n");
        var called = await CalledHomeDeviceAsync(setup, "CL-1");

        await using var session = await device.ConnectAsync();
        var outcome = await ApplyAsync(called, session);

        Assert.True(outcome.Succeeded, outcome.Detail + "\n" + device.SshdLog);
        Assert.Equal(DeviceState.Onboarded, outcome.State);
        Assert.Equal("Cli Shell Telecom 127.0.0.1", await File.ReadAllTextAsync(Path.Combine(dir, "CL-1", "owner")));
        var timeline = await TimelineAsync(setup, called.Id);
        Assert.Contains("2 command(s) run over exec, each exited 0", timeline.Steps.Single(s => s.State == DeviceState.Configured).Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failing_command_stops_the_rest_and_its_exit_status_and_stderr_go_on_the_timeline()
    {
        var setup = await ManufacturerAsync("Cli Failing Telecom");
        var dir = Path.Combine(device.Directory, "cli-fail");
        Directory.CreateDirectory(dir);
        await PutTemplateAsync(setup, "MX204", "cli", $"touch {dir}/{{{{serial}}}}-first\nls /nonexistent-{{{{serial}}}}\ntouch {dir}/{{{{serial}}}}-never");
        var called = await CalledHomeDeviceAsync(setup, "CL-2");

        await using var session = await device.ConnectAsync();
        var outcome = await ApplyAsync(called, session);

        Assert.False(outcome.Succeeded);
        Assert.Equal(DeviceState.CalledHome, outcome.State);
        Assert.True(File.Exists(Path.Combine(dir, "CL-2-first")));
        Assert.False(File.Exists(Path.Combine(dir, "CL-2-never")));
        var failure = (await TimelineAsync(setup, called.Id)).Steps[^1];
        Assert.Equal(DeviceState.CalledHome, failure.State);
        Assert.Contains("command 2 of 3 failed with exit status 2", failure.Detail, StringComparison.Ordinal);
        Assert.Contains("No such file or directory", failure.Detail, StringComparison.Ordinal);
    }
}
