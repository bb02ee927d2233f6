using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.Inventory.Api;
using Onboarding.Inventory.Contracts;

namespace Onboarding.IntegrationTests;

/// <summary>
/// The device module's lifecycle contract against PostgreSQL: steps recorded by other modules, refusals that change
/// nothing, concurrent steps under the row lock, the look-up by public key, and the timeline API.
/// </summary>
public class DeviceLifecycleTests(OnboardingFactory factory) : IClassFixture<OnboardingFactory>
{
    /// <summary>Bookkeeps the devices through the device module's own contract, as the drop does after an upload.</summary>
    private async Task<(ManufacturerSetup Setup, Dictionary<string, DeviceIdentity> Devices, Dictionary<string, string> KeyHashes)> BookkeepAsync(
        string customer, params string[] serials)
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, customer);
        var records = new List<string>();
        var keyHashes = new Dictionary<string, string>();
        foreach (var serial in serials)
        {
            using var certificate = setup.Ca.IssueDevice(serial);
            records.Add(DeviceRecordXml.Device(serial, setup.Profile.Name, certificate));
            keyHashes[serial] = Convert.ToHexStringLower(SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo()));
        }

        using var scope = factory.Services.CreateScope();
        var outcome = await scope.ServiceProvider.GetRequiredService<IDeviceBookkeeping>().BookkeepAsync(setup.Credentials.ManufacturerId, "devices.xml",
            "test:bookkeeping", Encoding.UTF8.GetBytes(DeviceRecordXml.Devices([.. records])), CancellationToken.None);
        Assert.True(outcome.Accepted, outcome.Summary);
        var directory = scope.ServiceProvider.GetRequiredService<IDeviceDirectory>();
        var devices = new Dictionary<string, DeviceIdentity>();
        foreach (var serial in serials)
            devices[serial] = (await directory.FindAsync(setup.Profile.Id, serial, CancellationToken.None))!;
        return (setup, devices, keyHashes);
    }

    /// <summary>Until <paramref name="count"/> sessions of this test's database wait for a lock (bounded).</summary>
    private Task WaitForLockWaitersAsync(int count, string what) => TelemetryFactory.EventuallyAsync(async () =>
    {
        // A connection of its own: pg_stat_activity is a snapshot taken once per transaction.
        await using var observer = new NpgsqlConnection(factory.ConnectionString);
        await observer.OpenAsync();
        await using var waiting = new NpgsqlCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'", observer);
        return (long)(await waiting.ExecuteScalarAsync())! >= count;
    }, what, TimeSpan.FromSeconds(30));

    private async Task<DeviceStepRecorded> RecordAsync(DeviceId id, DeviceStep step)
    {
        using var scope = factory.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<IDeviceLifecycle>().RecordStepAsync(id, step, CancellationToken.None);
    }

    [Fact]
    public async Task Recorded_steps_change_the_state_and_every_step_is_on_the_timeline_by_id_and_by_serial()
    {
        var (setup, devices, _) = await BookkeepAsync("Lifecycle Telecom", "LC-1");
        var id = devices["LC-1"].Id;

        var started = await RecordAsync(id, new DeviceStep(DeviceState.Bootstrapping, "bootstrap:192.0.2.7", "get-bootstrapping-data"));
        await RecordAsync(id, new DeviceStep(null, "bootstrap:192.0.2.7", "report-progress: bootstrap-initiated"));
        await RecordAsync(id, new DeviceStep(DeviceState.CalledHome, "call-home:192.0.2.7:41234", "host key matches the IDevID"));

        Assert.Equal((DeviceState.Bookkept, DeviceState.Bootstrapping), (started.From, started.To));
        var timeline = (await setup.Customer.GetFromJsonAsync<DeviceTimeline>($"/api/devices/{id}/timeline"))!;
        Assert.Equal((id, "LC-1", DeviceState.CalledHome), (timeline.Id, timeline.SerialNumber, timeline.State));
        Assert.Equal(
            [
                (DeviceState.Bookkept, "test:bookkeeping"),
                (DeviceState.Bootstrapping, "bootstrap:192.0.2.7"),
                (DeviceState.Bootstrapping, "bootstrap:192.0.2.7"),
                (DeviceState.CalledHome, "call-home:192.0.2.7:41234"),
            ],
            timeline.Steps.Select(s => (s.State, s.Source)));
        Assert.Equal(["report-progress: bootstrap-initiated", "host key matches the IDevID"], timeline.Steps.Skip(2).Select(s => s.Detail));
        Assert.Equal(started.At, timeline.Steps[1].At);
        Assert.True(timeline.Steps.Zip(timeline.Steps.Skip(1)).All(p => p.First.At <= p.Second.At));

        var details = (await setup.Customer.GetFromJsonAsync<DeviceDetails>("/api/devices/LC-1"))!;
        Assert.Equal((id, DeviceState.CalledHome), (details.Id, details.State));
        Assert.Equal(timeline.Steps, details.Timeline);
        Assert.Equal(id, (await setup.Customer.GetFromJsonAsync<Onboarding.ServiceDefaults.Http.PagedList<DeviceSummary>>("/api/devices"))!.Items.Single().Id);
    }

    [Fact]
    public async Task An_impossible_transition_is_refused_with_a_typed_error_and_nothing_changes()
    {
        var (setup, devices, _) = await BookkeepAsync("Impatient Telecom", "LC-SKIP");
        var id = devices["LC-SKIP"].Id;

        var refused = await Assert.ThrowsAsync<DeviceTransitionRefusedException>(() =>
            RecordAsync(id, new DeviceStep(DeviceState.Onboarded, "call-home:192.0.2.8", "configured")));

        Assert.Equal((id, DeviceState.Bookkept, DeviceState.Onboarded), (refused.DeviceId, refused.From, refused.To));
        var timeline = (await setup.Customer.GetFromJsonAsync<DeviceTimeline>($"/api/devices/{id}/timeline"))!;
        Assert.Equal(DeviceState.Bookkept, timeline.State);
        Assert.Single(timeline.Steps);

        // A rejection is a step like any other, and final.
        await RecordAsync(id, new DeviceStep(DeviceState.Rejected, "call-home:192.0.2.8", "the certificate does not chain to the manufacturer's CA"));
        await Assert.ThrowsAsync<DeviceTransitionRefusedException>(() => RecordAsync(id, new DeviceStep(DeviceState.Bootstrapping, "bootstrap:x", "again")));
        timeline = (await setup.Customer.GetFromJsonAsync<DeviceTimeline>($"/api/devices/{id}/timeline"))!;
        Assert.Equal(DeviceState.Rejected, timeline.State);
        Assert.Equal("the certificate does not chain to the manufacturer's CA", timeline.Steps[^1].Detail);
        Assert.Equal(2, timeline.Steps.Count);
    }

    [Fact]
    public async Task A_step_for_an_unknown_device_or_without_a_reason_is_refused()
    {
        var unknown = DeviceId.New();
        var missing = await Assert.ThrowsAsync<DeviceNotFoundException>(() => RecordAsync(unknown, new DeviceStep(DeviceState.Bootstrapping, "bootstrap:x", "hello")));
        Assert.Equal(unknown, missing.DeviceId);

        var (_, devices, _) = await BookkeepAsync("Terse Telecom", "LC-TERSE");
        var error = await Assert.ThrowsAsync<ArgumentException>(() => RecordAsync(devices["LC-TERSE"].Id, new DeviceStep(DeviceState.Rejected, "bootstrap:x", "")));
        Assert.Contains("reason", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_note_without_a_state_waits_for_a_change_under_way_and_records_the_state_that_change_left()
    {
        var (setup, devices, _) = await BookkeepAsync("Noting Telecom", "LC-NOTE");
        var id = devices["LC-NOTE"].Id;
        var unknown = DeviceId.New();
        var missing = await Assert.ThrowsAsync<DeviceNotFoundException>(() => RecordAsync(unknown, new DeviceStep(null, "bootstrap:x", "report-progress")));
        Assert.Equal(unknown, missing.DeviceId);

        // Another transaction is moving the device on and holds its row: the note must wait and then carry the new state.
        await using var holder = new NpgsqlConnection(factory.ConnectionString);
        await holder.OpenAsync();
        var hold = await holder.BeginTransactionAsync();
        await using (var move = new NpgsqlCommand("UPDATE inventory.devices SET state = 'Bootstrapping' WHERE id = $1", holder, hold))
        {
            move.Parameters.Add(new NpgsqlParameter { Value = id.Value });
            await move.ExecuteNonQueryAsync();
        }

        var note = RecordAsync(id, new DeviceStep(null, "bootstrap:192.0.2.9", "report-progress bootstrap-initiated"));
        await WaitForLockWaitersAsync(1, "the note waiting for the device row");
        Assert.False(note.IsCompleted);
        await hold.CommitAsync();
        var recorded = await note;

        Assert.Equal((DeviceState.Bootstrapping, DeviceState.Bootstrapping), (recorded.From, recorded.To));
        var timeline = (await setup.Customer.GetFromJsonAsync<DeviceTimeline>($"/api/devices/{id}/timeline"))!;
        Assert.Equal(DeviceState.Bootstrapping, timeline.State);
        Assert.Equal((DeviceState.Bootstrapping, "report-progress bootstrap-initiated", recorded.At),
            (timeline.Steps[^1].State, timeline.Steps[^1].Detail, timeline.Steps[^1].At));
        var details = (await setup.Customer.GetFromJsonAsync<DeviceDetails>("/api/devices/LC-NOTE"))!;
        Assert.Equal(recorded.At, details.UpdatedAt);
    }

    [Fact]
    public async Task A_note_unless_repeated_is_left_out_only_while_the_latest_entry_says_the_same()
    {
        var (setup, devices, _) = await BookkeepAsync("Repeating Telecom", "LC-REPEAT");
        var id = devices["LC-REPEAT"].Id;
        const string lacking = "telemetry-credential-failed: the device does not announce the capability";

        await RecordAsync(id, new DeviceStep(null, "call-home:192.0.2.10:1", lacking, UnlessRepeated: true));
        var repeated = await RecordAsync(id, new DeviceStep(null, "call-home:192.0.2.10:2", lacking, UnlessRepeated: true));
        await RecordAsync(id, new DeviceStep(null, "bootstrap:192.0.2.10", "report-progress: informational"));
        await RecordAsync(id, new DeviceStep(null, "call-home:192.0.2.10:3", lacking, UnlessRepeated: true));
        // Without the flag a note is always added, even the same one.
        await RecordAsync(id, new DeviceStep(null, "call-home:192.0.2.10:4", lacking));

        Assert.Equal((DeviceState.Bookkept, DeviceState.Bookkept), (repeated.From, repeated.To));
        var timeline = (await setup.Customer.GetFromJsonAsync<DeviceTimeline>($"/api/devices/{id}/timeline"))!;
        Assert.Equal(["test:bookkeeping", "call-home:192.0.2.10:1", "bootstrap:192.0.2.10", "call-home:192.0.2.10:3", "call-home:192.0.2.10:4"],
            timeline.Steps.Select(s => s.Source));
        var missing = await Assert.ThrowsAsync<DeviceNotFoundException>(() => RecordAsync(DeviceId.New(), new DeviceStep(null, "x", lacking, UnlessRepeated: true)));
        Assert.NotNull(missing);
        // A state change is always on the timeline.
        await Assert.ThrowsAsync<ArgumentException>(() => RecordAsync(id, new DeviceStep(DeviceState.Bootstrapping, "bootstrap:x", "again", UnlessRepeated: true)));
    }

    [Fact]
    public async Task Concurrent_steps_from_one_state_are_applied_once_and_the_others_refused()
    {
        var (setup, devices, _) = await BookkeepAsync("Racing Lifecycle Telecom", "LC-RACE");
        var id = devices["LC-RACE"].Id;
        // The test holds the row until all eight steps are waiting for it, so they meet for certain instead of by chance.
        await using var holder = new NpgsqlConnection(factory.ConnectionString);
        await holder.OpenAsync();
        var hold = await holder.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand("SELECT 1 FROM inventory.devices WHERE id = $1 FOR UPDATE", holder, hold))
        {
            lockRow.Parameters.Add(new NpgsqlParameter { Value = id.Value });
            await lockRow.ExecuteNonQueryAsync();
        }

        var racing = Task.WhenAll(Enumerable.Range(0, 8).Select(async i =>
        {
            try
            {
                await RecordAsync(id, new DeviceStep(DeviceState.Bootstrapping, $"bootstrap:host-{i}", "get-bootstrapping-data"));
                return true;
            }
            catch (DeviceTransitionRefusedException refused) when (refused.From == DeviceState.Bootstrapping)
            {
                return false;
            }
        }));
        await WaitForLockWaitersAsync(8, "all eight steps waiting for the device row");
        await hold.RollbackAsync();
        var attempts = await racing;

        Assert.Single(attempts, applied => applied);
        var timeline = (await setup.Customer.GetFromJsonAsync<DeviceTimeline>($"/api/devices/{id}/timeline"))!;
        Assert.Equal([DeviceState.Bookkept, DeviceState.Bootstrapping], timeline.Steps.Select(s => s.State));
    }

    [Fact]
    public async Task A_device_is_found_by_the_sha256_of_its_certificates_public_key()
    {
        var (setup, devices, keyHashes) = await BookkeepAsync("Key Telecom", "LC-KEY-1", "LC-KEY-2");
        using var scope = factory.Services.CreateScope();
        var directory = scope.ServiceProvider.GetRequiredService<IDeviceDirectory>();

        var found = await directory.FindByPublicKeySha256Async(keyHashes["LC-KEY-2"].ToUpperInvariant(), CancellationToken.None);

        Assert.Equal(devices["LC-KEY-2"], Assert.Single(found));
        Assert.Equal(setup.Profile.Id, found[0].CustomerId);
        Assert.Equal(keyHashes["LC-KEY-1"], (await setup.Customer.GetFromJsonAsync<DeviceDetails>("/api/devices/LC-KEY-1"))!.PublicKeySha256);
        Assert.Empty(await directory.FindByPublicKeySha256Async(new string('a', 64), CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => directory.FindByPublicKeySha256Async("not-hex", CancellationToken.None));
        Assert.Equal(devices["LC-KEY-1"], await directory.GetAsync(devices["LC-KEY-1"].Id, CancellationToken.None));
    }

    [Fact]
    public async Task The_timeline_of_another_customers_device_is_not_found_and_an_invalid_id_is_a_bad_request()
    {
        var (_, devices, _) = await BookkeepAsync("Owner Telecom", "LC-OWNED");
        var (other, _) = await factory.SignUpAsync("Nosy Telecom");

        var notFound = await Problem.AssertAsync(await other.GetAsync($"/api/devices/{devices["LC-OWNED"].Id}/timeline"), HttpStatusCode.NotFound);
        Assert.Equal("Device not found", notFound.GetProperty("title").GetString());
        await Problem.AssertAsync(await other.GetAsync($"/api/devices/{DeviceId.New()}/timeline"), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await other.GetAsync("/api/devices/LC-OWNED"), HttpStatusCode.NotFound);
        await Problem.AssertValidationAsync(await other.GetAsync("/api/devices/LC-OWNED/timeline"), "id");
        await Problem.AssertValidationAsync(await other.GetAsync("/api/devices/00000000-0000-0000-0000-000000000000/timeline"), "id");
        using var anonymous = factory.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/devices/{devices["LC-OWNED"].Id}/timeline")).StatusCode);
    }
}
