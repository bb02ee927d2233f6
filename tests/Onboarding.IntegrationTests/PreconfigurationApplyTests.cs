using System.Net.Http.Json;
using System.Xml.Linq;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Onboarding.Accounts.Contracts;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.Inventory.Contracts;
using Onboarding.Netconf.Datastore;
using Onboarding.Netconf.Messages;
using Onboarding.Provisioning;
using Onboarding.Provisioning.Apply;
using Onboarding.Provisioning.Data;
using Onboarding.Provisioning.Templates;

namespace Onboarding.IntegrationTests;

/// <summary>
/// <c>IPreconfiguration.ApplyAsync</c> against a device played in process (our SSH server, NetconfServerSession,
/// InMemoryDatastore) over loopback TCP: with and without :candidate, a device's rpc-error, a device that does not keep
/// what it was sent, the states past a step, and no template. The lifecycle and templates are the real ones (PostgreSQL).
/// </summary>
public class PreconfigurationApplyTests(OnboardingFactory factory) : ProvisioningRig(factory), IClassFixture<OnboardingFactory>
{
    private static readonly XNamespace P = "urn:example:provisioning";

    private static readonly string Template =
        $"<config><device-info xmlns=\"{P}\"><serial>{{{{serial}}}}</serial><owner>{{{{customer}}}}</owner><model>{{{{model}}}}</model>"
        + "<id>{{deviceId}}</id><nms-peer>{{address}}</nms-peer><password>" + Secret + "</password></device-info></config>";

    /// <summary>Templates may hold device passwords: this one must never reach a log or the timeline.</summary>
    private const string Secret = "pw-S3CRET-4711";

    [Fact]
    public async Task A_candidate_device_is_locked_edited_committed_verified_and_onboarded()
    {
        var setup = await ManufacturerAsync("Candidate & Sons");
        await PutTemplateAsync(setup, "MX204", "netconf", Template);
        var device = await CalledHomeDeviceAsync(setup, "PC-1");
        await using var simulated = new SimulatedNetconfDevice();
        await using var session = await simulated.ConnectAsync();

        var outcome = await ApplyAsync(device, session);

        Assert.True(outcome.Succeeded, outcome.Detail);
        Assert.Equal(DeviceState.Onboarded, outcome.State);
        var running = simulated.Store.Snapshot(DatastoreName.Running).Element(P + "device-info")!;
        Assert.Equal("PC-1", running.Element(P + "serial")!.Value);
        Assert.Equal("Candidate & Sons", running.Element(P + "owner")!.Value);
        Assert.Equal("MX204", running.Element(P + "model")!.Value);
        Assert.Equal(device.Id.ToString(), running.Element(P + "id")!.Value);
        Assert.Equal("127.0.0.1", running.Element(P + "nms-peer")!.Value);
        Assert.Equal(["lock", "edit-config", "commit", "unlock", "get-config"], simulated.Operations);

        var timeline = await TimelineAsync(setup, device.Id);
        Assert.Equal(DeviceState.Onboarded, timeline.State);
        var configured = timeline.Steps.Single(s => s.State == DeviceState.Configured);
        Assert.Equal("call-home:test", configured.Source);
        Assert.Contains("edit-config to candidate, commit", configured.Detail, StringComparison.Ordinal);
        Assert.Contains("verified with get-config", timeline.Steps[^1].Detail, StringComparison.Ordinal);
        Assert.Equal(Secret, running.Element(P + "password")!.Value);
        Assert.DoesNotContain(Factory.Logs.RenderedMessages, m => m.Contains(Secret, StringComparison.Ordinal));
        Assert.DoesNotContain(timeline.Steps, s => s.Detail.Contains(Secret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_device_without_candidate_is_edited_in_running()
    {
        var setup = await ManufacturerAsync("Running Telecom");
        await PutTemplateAsync(setup, "*", "netconf", Template);
        var device = await CalledHomeDeviceAsync(setup, "PR-1", model: "EX4400");
        await using var simulated = new SimulatedNetconfDevice([NetconfCapabilities.Base10, NetconfCapabilities.Base11, NetconfCapabilities.WritableRunning]);
        await using var session = await simulated.ConnectAsync();

        var outcome = await ApplyAsync(device, session);

        Assert.True(outcome.Succeeded, outcome.Detail);
        Assert.Equal(DeviceState.Onboarded, outcome.State);
        Assert.Equal(["lock", "edit-config", "unlock", "get-config"], simulated.Operations);
        Assert.Equal("EX4400", simulated.Store.Snapshot(DatastoreName.Running).Descendants(P + "model").Single().Value);
        var timeline = await TimelineAsync(setup, device.Id);
        Assert.Contains("edit-config to running", timeline.Steps.Single(s => s.State == DeviceState.Configured).Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_device_offering_no_writable_datastore_is_refused_and_stays_called_home()
    {
        var setup = await ManufacturerAsync("Read Only Telecom");
        await PutTemplateAsync(setup, "*", "netconf", Template);
        var device = await CalledHomeDeviceAsync(setup, "RO-1");
        await using var simulated = new SimulatedNetconfDevice([NetconfCapabilities.Base10]);
        await using var session = await simulated.ConnectAsync();

        var outcome = await ApplyAsync(device, session);

        Assert.False(outcome.Succeeded);
        Assert.Equal(DeviceState.CalledHome, outcome.State);
        Assert.Contains("neither :candidate nor :writable-running", outcome.Detail, StringComparison.Ordinal);
        Assert.Empty(simulated.Operations);
    }

    [Fact]
    public async Task A_device_refusing_the_netconf_subsystem_stays_called_home()
    {
        var setup = await ManufacturerAsync("No Subsystem Telecom");
        await PutTemplateAsync(setup, "*", "netconf", Template);
        var device = await CalledHomeDeviceAsync(setup, "NS-1");
        await using var simulated = new SimulatedNetconfDevice(offersNetconf: false);
        await using var session = await simulated.ConnectAsync();

        var outcome = await ApplyAsync(device, session);

        Assert.False(outcome.Succeeded);
        Assert.Equal(DeviceState.CalledHome, outcome.State);
        Assert.Contains("refused the netconf subsystem", (await TimelineAsync(setup, device.Id)).Steps[^1].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_device_refusing_exec_for_a_cli_template_stays_called_home()
    {
        var setup = await ManufacturerAsync("No Exec Telecom");
        await PutTemplateAsync(setup, "*", "cli", "set system host-name {{serial}}\ncommit");
        var device = await CalledHomeDeviceAsync(setup, "NE-1");
        await using var simulated = new SimulatedNetconfDevice();
        await using var session = await simulated.ConnectAsync();

        var outcome = await ApplyAsync(device, session);

        Assert.False(outcome.Succeeded);
        Assert.Equal(DeviceState.CalledHome, outcome.State);
        var failure = (await TimelineAsync(setup, device.Id)).Steps[^1];
        Assert.Contains("command 1 of 2: the device refused the exec request", failure.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("host-name", failure.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_rpc_error_goes_on_the_timeline_with_the_devices_error_and_the_state_stays()
    {
        var setup = await ManufacturerAsync("Refusing Telecom");
        await PutTemplateAsync(setup, "MX204", "netconf",
            $"<config xmlns:nc=\"{NetconfXml.Base}\"><device-info xmlns=\"{P}\" nc:operation=\"create\"><serial>{{{{serial}}}}</serial></device-info></config>");
        var device = await CalledHomeDeviceAsync(setup, "RE-1");
        // The device already has device-info: create is refused with data-exists (RFC 6241 §7.2).
        var store = new InMemoryDatastore(running: new XElement(P + "device-info", new XElement(P + "serial", "factory")));
        await using var simulated = new SimulatedNetconfDevice(store: store);
        await using var session = await simulated.ConnectAsync();

        var outcome = await ApplyAsync(device, session);

        Assert.False(outcome.Succeeded);
        Assert.Equal(DeviceState.CalledHome, outcome.State);
        Assert.Contains("data-exists", outcome.Detail, StringComparison.Ordinal);
        // The half-done candidate is discarded and the lock released.
        Assert.Equal(["lock", "edit-config", "discard-changes", "unlock"], simulated.Operations);
        Assert.Equal("factory", store.Snapshot(DatastoreName.Running).Descendants(P + "serial").Single().Value);
        var timeline = await TimelineAsync(setup, device.Id);
        Assert.Equal(DeviceState.CalledHome, timeline.State);
        var failure = timeline.Steps[^1];
        Assert.Equal(DeviceState.CalledHome, failure.State);
        Assert.Contains("edit-config to candidate refused by the device", failure.Detail, StringComparison.Ordinal);
        Assert.Contains("data-exists", failure.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_device_that_does_not_keep_the_configuration_stays_configured_with_the_differing_paths()
    {
        var setup = await ManufacturerAsync("Forgetful Telecom");
        await PutTemplateAsync(setup, "MX204", "netconf", Template);
        var device = await CalledHomeDeviceAsync(setup, "FG-1");
        // get-config answers a device-info whose owner is something else (values must not reach the timeline).
        await using var simulated = new SimulatedNetconfDevice(intercept: op => op.Name.LocalName == "get-config"
            ? new XElement(NetconfXml.Base + "data", new XElement(P + "device-info", new XElement(P + "serial", "FG-1"), new XElement(P + "owner", "someone-else")))
            : null);
        await using var session = await simulated.ConnectAsync();

        var outcome = await ApplyAsync(device, session);

        Assert.False(outcome.Succeeded);
        Assert.Equal(DeviceState.Configured, outcome.State);
        var timeline = await TimelineAsync(setup, device.Id);
        Assert.Equal(DeviceState.Configured, timeline.State);
        var detail = timeline.Steps[^1].Detail;
        Assert.Contains("/device-info/owner (different value)", detail, StringComparison.Ordinal);
        Assert.Contains("/device-info/model (missing)", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("someone-else", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("Forgetful", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_configured_device_is_only_verified_and_an_onboarded_one_gets_nothing()
    {
        var setup = await ManufacturerAsync("Second Call Telecom");
        await PutTemplateAsync(setup, "MX204", "netconf", Template);
        var device = await CalledHomeDeviceAsync(setup, "SC-1");
        await StepAsync(device.Id, DeviceState.Configured);
        var store = new InMemoryDatastore();
        await using (var first = new SimulatedNetconfDevice(store: store))
        {
            // What the first call home left in running, before it broke off ahead of the verification.
            await using var session = await first.ConnectAsync();
            var preloaded = new XElement(P + "device-info", new XElement(P + "serial", "SC-1"), new XElement(P + "owner", "Second Call Telecom"),
                new XElement(P + "model", "MX204"), new XElement(P + "id", device.Id.ToString()), new XElement(P + "nms-peer", "127.0.0.1"), new XElement(P + "password", Secret));
            store.EditConfig(DatastoreName.Running, new XElement(NetconfXml.Base + "config", preloaded));

            var outcome = await ApplyAsync(await DeviceAsync(device.Id), session);

            Assert.True(outcome.Succeeded, outcome.Detail);
            Assert.Equal(DeviceState.Onboarded, outcome.State);
            Assert.Equal(["get-config"], first.Operations);
        }

        await using var again = new SimulatedNetconfDevice(store: store);
        await using var secondSession = await again.ConnectAsync();
        var nothing = await ApplyAsync(await DeviceAsync(device.Id), secondSession);
        Assert.True(nothing.Succeeded);
        Assert.Equal(DeviceState.Onboarded, nothing.State);
        Assert.Contains("already onboarded", nothing.Detail, StringComparison.Ordinal);
        Assert.Empty(again.Operations);
    }

    [Fact]
    public async Task Without_a_template_the_device_stays_called_home_with_a_timeline_entry()
    {
        var setup = await ManufacturerAsync("Templateless Telecom");
        await PutTemplateAsync(setup, "OTHER-MODEL", "cli", "true");
        var device = await CalledHomeDeviceAsync(setup, "NT-1");
        await using var simulated = new SimulatedNetconfDevice();
        await using var session = await simulated.ConnectAsync();

        var outcome = await ApplyAsync(device, session);

        Assert.False(outcome.Succeeded);
        Assert.Equal(DeviceState.CalledHome, outcome.State);
        Assert.Contains("no pre-configuration template for model 'MX204'", outcome.Detail, StringComparison.Ordinal);
        var timeline = await TimelineAsync(setup, device.Id);
        Assert.Equal(DeviceState.CalledHome, timeline.State);
        Assert.Contains("no pre-configuration template", timeline.Steps[^1].Detail, StringComparison.Ordinal);
        Assert.Empty(simulated.Operations);

        // The next call home finds no template either: the same condition is not added to the timeline again.
        await using var rebooted = new SimulatedNetconfDevice();
        await using var again = await rebooted.ConnectAsync();
        Assert.False((await ApplyAsync(device, again)).Succeeded);
        Assert.Equal(timeline.Steps, (await TimelineAsync(setup, device.Id)).Steps);
    }

    [Fact]
    public async Task A_device_that_never_answers_times_out_and_stays_called_home()
    {
        var setup = await ManufacturerAsync("Silent Telecom");
        await PutTemplateAsync(setup, "MX204", "netconf", Template);
        var device = await CalledHomeDeviceAsync(setup, "SI-1");
        var hold = new TaskCompletionSource();
        await using var simulated = new SimulatedNetconfDevice(intercept: op =>
        {
            if (op.Name.LocalName == "edit-config")
                hold.Task.Wait(TimeSpan.FromMinutes(2));
            return null;
        });
        await using var session = await simulated.ConnectAsync();
        using var scope = Factory.Services.CreateScope();
        var services = scope.ServiceProvider;
        var preconfiguration = new Preconfiguration(services.GetRequiredService<TemplateStore>(), services.GetRequiredService<TemplateRenderer>(),
            services.GetRequiredService<IDeviceDirectory>(), services.GetRequiredService<IDeviceLifecycle>(), services.GetRequiredService<IManufacturerAccounts>(),
            Options.Create(new ProvisioningOptions { ApplyTimeout = TimeSpan.FromSeconds(2) }), NullLogger<Preconfiguration>.Instance);

        var outcome = await preconfiguration.ApplyAsync(device, session, "call-home:test", CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(1));
        hold.SetResult();

        Assert.False(outcome.Succeeded);
        Assert.Equal(DeviceState.CalledHome, outcome.State);
        Assert.Contains("Provisioning:ApplyTimeout", outcome.Detail, StringComparison.Ordinal);
        Assert.Contains("edit-config to candidate", outcome.Detail, StringComparison.Ordinal);
    }
}
