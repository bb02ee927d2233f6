using System.Net.Http.Json;
using Npgsql;
using Onboarding.Accounts.Api;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.ServiceDefaults.Outbox;
using Onboarding.ServiceDefaults.Security;
using Onboarding.Sftp;

namespace Onboarding.IntegrationTests;

/// <summary>
/// The drop's CLOSE survives the death of its host: the real host runs as a child process and is killed with SIGKILL
/// while uploads are between "stored" and "bookkept"; after a restart every upload ends bookkept or rejected exactly
/// once and the quota counts every stored upload once.
/// </summary>
public class DropCrashTests
{
    private const string AdminApiKey = "crash-admin-key-0123456789abcdef";
    private const int Connections = 4;
    private const int FilesPerConnection = 6;

    [Fact]
    public async Task Uploads_caught_by_a_kill_9_are_finished_after_restart_exactly_once_with_quotas_right()
    {
        var server = await PostgresServer.Instance;
        var connectionString = await server.CreateEmptyDatabaseAsync("dropcrash");
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings:Onboarding"] = connectionString,
            ["HostKeys:Directory"] = Directory.CreateTempSubdirectory("onboarding-crash-keys-").FullName,
            ["Admin:ApiKey"] = AdminApiKey,
            ["Nms:PublicHost"] = "nms.test.example",
            ["Accounts:SignUp:PermitLimit"] = "10000",
            ["Accounts:FailedAuthentication:PermitLimit"] = "10000",
            // A short lease, so the dead host's claims come back within the test.
            ["Outbox:LeaseDuration"] = "00:00:03",
            ["Outbox:PollInterval"] = "00:00:00.200",
        };
        await using var db = NpgsqlDataSource.Create(connectionString);

        var first = await HostProcess.StartAsync(settings);
        var setup = await SetUpManufacturerAsync(first);
        using var devices = new DeviceSet(setup);

        // A calm start: a few uploads finish normally, accepted and rejected.
        var calm = await UploadBatchAsync(first, setup, devices, "calm", connections: 2, filesPerConnection: 3);
        Assert.All(calm, u => Assert.NotEqual(Seen.Lost, u.Seen));

        // Hold the inventory still: bookkeeping a good record now blocks after its upload, quota and outbox message
        // are committed. Rejected records only read and still finish. Then kill the host in that window.
        Guid[] caught;
        List<UploadAttempt> batch;
        await using (var hold = await db.OpenConnectionAsync())
        {
            await using var transaction = await hold.BeginTransactionAsync();
            await using (var lockDevices = new NpgsqlCommand("LOCK TABLE inventory.devices IN EXCLUSIVE MODE", hold, transaction))
                await lockDevices.ExecuteNonQueryAsync();

            var uploading = UploadBatchAsync(first, setup, devices, "batch", Connections, FilesPerConnection);
            caught = await WaitForPendingUploadsAsync(db, Connections, first);
            await first.KillAsync();
            batch = await uploading;
            await transaction.RollbackAsync();
        }

        Assert.Equal(Connections, batch.Count(u => u.Seen == Seen.Lost));
        Assert.Contains(batch, u => u.Seen == Seen.Rejected);

        await using var second = await HostProcess.StartAsync(settings);
        await WaitForEmptyBacklogAsync(second);
        // The host works on after the restart.
        var after = await UploadBatchAsync(second, setup, devices, "after", connections: 1, filesPerConnection: 2);
        Assert.All(after, u => Assert.NotEqual(Seen.Lost, u.Seen));

        var uploads = await ReadUploadsAsync(db);
        Assert.DoesNotContain(uploads, u => u.Outcome == "Pending");
        // Exactly once: each stored upload in one outbox message (its CLOSE's group), done; the caught ones finished by the second host.
        Assert.All(uploads, u => Assert.Equal(("done", 1), (u.MessageState, u.Messages)));
        foreach (var id in caught)
        {
            var upload = Assert.Single(uploads, u => u.Id == id);
            Assert.Equal("Accepted", upload.Outcome);
            Assert.EndsWith($":{second.ProcessId}", upload.LockedBy, StringComparison.Ordinal);
        }

        // What each client was told matches what was recorded; a lost answer was recorded as the record deserved.
        foreach (var attempt in calm.Concat(batch).Concat(after).Where(a => a.Seen != Seen.NotTried))
        {
            var stored = uploads.Where(u => u.FileName == attempt.FileName).ToList();
            if (attempt.Seen == Seen.Lost && stored.Count == 0)
                continue; // killed before CLOSE was committed: nothing kept, nothing counted
            var upload = Assert.Single(stored);
            Assert.Equal(attempt.Good ? "Accepted" : "Rejected", upload.Outcome);
            if (attempt.Seen != Seen.Lost)
                Assert.Equal(attempt.Seen == Seen.Accepted ? "Accepted" : "Rejected", upload.Outcome);
        }

        // Quota: the running total equals what is stored, each upload counted once.
        var (files, bytes) = await ReadUsageAsync(db, setup.Credentials.ManufacturerId);
        Assert.Equal(uploads.Count, files);
        Assert.Equal(uploads.Sum(u => u.Size), bytes);

        // Every accepted record is one device with one timeline entry; no rejected record became a device.
        var bookkept = await ReadDevicesAsync(db);
        var acceptedSerials = uploads.Where(u => u.Outcome == "Accepted").Select(u => DeviceSet.SerialOf(u.FileName)).Order().ToList();
        Assert.Equal(acceptedSerials, bookkept.Keys.Order().ToList());
        Assert.All(bookkept.Values, events => Assert.Equal(1, events));
    }

    private enum Seen
    {
        NotTried,
        Accepted,
        Rejected,
        Lost,
    }

    private sealed record UploadAttempt(string FileName, bool Good, Seen Seen);

    /// <summary>Every third file (<c>prefix-connection-0.xml</c>, <c>…-3.xml</c>) holds a record for another customer.</summary>
    private static bool IsGood(string fileName) =>
        int.Parse(fileName[(fileName.LastIndexOf('-') + 1)..^".xml".Length], System.Globalization.CultureInfo.InvariantCulture) % 3 != 0;

    /// <summary>Each connection uploads its files one after the other; every third file holds a record for another customer.</summary>
    private static async Task<List<UploadAttempt>> UploadBatchAsync(HostProcess host, ManufacturerSetup setup, DeviceSet devices, string prefix,
        int connections, int filesPerConnection)
    {
        var perConnection = await Task.WhenAll(Enumerable.Range(0, connections).Select(async c =>
        {
            var attempts = new List<UploadAttempt>();
            var names = Enumerable.Range(0, filesPerConnection).Select(f => $"{prefix}-{c}-{f}.xml").Select(n => (Name: n, Good: IsGood(n))).ToList();
            try
            {
                await using var drop = await DropClient.ConnectAsync(host.SftpPort, setup.Credentials.Username, setup.Credentials.Passphrase, setup.Fingerprints);
                foreach (var (name, good) in names)
                {
                    Seen seen;
                    try
                    {
                        await drop.UploadAsync(name, devices.Record(name, good));
                        seen = Seen.Accepted;
                    }
                    catch (SftpStatusException)
                    {
                        seen = Seen.Rejected;
                    }

                    attempts.Add(new UploadAttempt(name, good, seen));
                }
            }
            catch (Exception ex) when (ex is not SftpStatusException)
            {
                // The host died under this connection: the upload in flight was lost to the client, the rest never tried.
                var lost = names[attempts.Count];
                attempts.Add(new UploadAttempt(lost.Name, lost.Good, Seen.Lost));
                attempts.AddRange(names.Skip(attempts.Count).Select(n => new UploadAttempt(n.Name, n.Good, Seen.NotTried)));
            }

            return attempts;
        }));
        return [.. perConnection.SelectMany(a => a)];
    }

    /// <summary>
    /// Waits until <paramref name="count"/> good uploads are stored and waiting for bookkeeping (one per blocked
    /// connection). A bad upload may be seen Pending for a moment too, but it does not block on the held lock and may
    /// finish before the kill, so only good ones count as caught.
    /// </summary>
    private static async Task<Guid[]> WaitForPendingUploadsAsync(NpgsqlDataSource db, int count, HostProcess host)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            await using var command = db.CreateCommand("SELECT id, file_name FROM drop.uploads WHERE outcome = 'Pending'");
            var pending = new List<Guid>();
            await using (var reader = await command.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    if (IsGood(reader.GetString(1)))
                        pending.Add(reader.GetGuid(0));
                }
            }

            if (pending.Count >= count)
                return [.. pending];
            Assert.True(DateTime.UtcNow < deadline, $"only {pending.Count} uploads reached the outbox:\n{host.Output}");
            await Task.Delay(50);
        }
    }

    private static async Task WaitForEmptyBacklogAsync(HostProcess host)
    {
        using var admin = new HttpClient { BaseAddress = host.BaseAddress };
        admin.DefaultRequestHeaders.Add(AdminKey.HeaderName, AdminApiKey);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        OutboxStatusView status;
        while ((status = (await admin.GetFromJsonAsync<OutboxStatusView>("/api/operations/outbox"))!).Backlog > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"backlog still {status.Backlog}:\n{host.Output}");
            await Task.Delay(200);
        }

        Assert.Equal(0, status.DeadLetters);
    }

    private static async Task<ManufacturerSetup> SetUpManufacturerAsync(HostProcess host)
    {
        using var anonymous = new HttpClient { BaseAddress = host.BaseAddress };
        var signUp = await anonymous.PostAsJsonAsync("/api/customers", new { name = "Crash Telecom", contactEmail = "noc@crash.example" });
        signUp.EnsureSuccessStatusCode();
        var profile = (await signUp.Content.ReadFromJsonAsync<SignUpResponse>())!;
        var customer = new HttpClient { BaseAddress = host.BaseAddress };
        customer.DefaultRequestHeaders.Add("X-Api-Key", profile.ApiKey);
        var registered = await customer.PostAsJsonAsync("/api/manufacturers", new { name = "Acme", serverDnsName = "redirect.acme.example" });
        registered.EnsureSuccessStatusCode();
        var credentials = (await registered.Content.ReadFromJsonAsync<ManufacturerCredentials>())!;
        var ca = new FactoryCa();
        (await customer.PutAsJsonAsync($"/api/manufacturers/{credentials.ManufacturerId}/ca", new { certificatesPem = ca.Pem })).EnsureSuccessStatusCode();
        return new ManufacturerSetup(customer, profile, credentials, ca);
    }

    private sealed record StoredUpload(Guid Id, string FileName, string Outcome, long Size, int Messages, string? MessageState, string? LockedBy);

    private static async Task<List<StoredUpload>> ReadUploadsAsync(NpgsqlDataSource db)
    {
        await using var command = db.CreateCommand("""
            SELECT u.id, u.file_name, u.outcome, u.size, count(m.id)::int, min(m.state), min(m.locked_by)
            FROM drop.uploads u LEFT JOIN outbox.messages m ON m.type = 'drop.bookkeep-uploads' AND m.payload->'uploadIds' ? u.id::text
            GROUP BY u.id, u.file_name, u.outcome, u.size
            """);
        var uploads = new List<StoredUpload>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            uploads.Add(new StoredUpload(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3), reader.GetInt32(4),
                reader.IsDBNull(5) ? null : reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetString(6)));
        }

        return uploads;
    }

    private static async Task<(int Files, long Bytes)> ReadUsageAsync(NpgsqlDataSource db, Guid manufacturerId)
    {
        await using var command = db.CreateCommand("SELECT files, bytes FROM drop.manufacturer_usage WHERE manufacturer_id = @id");
        command.Parameters.AddWithValue("id", manufacturerId);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return (reader.GetInt32(0), reader.GetInt64(1));
    }

    private static async Task<Dictionary<string, int>> ReadDevicesAsync(NpgsqlDataSource db)
    {
        await using var command = db.CreateCommand("""
            SELECT d.serial_number, count(e.*)::int FROM inventory.devices d LEFT JOIN inventory.device_events e ON e.device_id = d.id
            GROUP BY d.serial_number
            """);
        var devices = new Dictionary<string, int>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            devices[reader.GetString(0)] = reader.GetInt32(1);
        return devices;
    }

    /// <summary>One device per file name: good files carry the customer's own record, bad ones a record for another owner.</summary>
    private sealed class DeviceSet(ManufacturerSetup setup) : IDisposable
    {
        private readonly List<IDisposable> _certificates = [];

        public static string SerialOf(string fileName) => "SN-" + fileName[..^".xml".Length].ToUpperInvariant();

        public string Record(string fileName, bool good)
        {
            var serial = SerialOf(fileName);
            var certificate = setup.Ca.IssueDevice(serial);
            lock (_certificates)
                _certificates.Add(certificate);
            return DeviceRecordXml.Devices(DeviceRecordXml.Device(serial, good ? setup.Profile.Name : "Another Customer", certificate));
        }

        public void Dispose()
        {
            foreach (var certificate in _certificates)
                certificate.Dispose();
            setup.Ca.Dispose();
            setup.Customer.Dispose();
        }
    }
}
