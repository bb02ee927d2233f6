using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Onboarding.Drop.Api;
using Onboarding.Drop.Data;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.Inventory.Api;
using Onboarding.Inventory.Contracts;
using Onboarding.ServiceDefaults.Http;
using Onboarding.Sftp;

namespace Onboarding.IntegrationTests;

/// <summary>
/// Issue 14: concurrent CLOSEs of one manufacturer are committed in groups, and each CLOSE still hears its own file's
/// outcome. The clients pipeline: our <see cref="SftpClient"/> with many uploads in flight on one session, and paramiko
/// sending every OPEN, then every WRITE and CLOSE, before reading any answer.
/// </summary>
public class DropGroupCommitTests(OnboardingFactory factory) : IClassFixture<OnboardingFactory>
{
    private static string Record(ManufacturerSetup setup, string serial, List<IDisposable> keep)
    {
        var certificate = setup.Ca.IssueDevice(serial);
        keep.Add(certificate);
        return DeviceRecordXml.Devices(DeviceRecordXml.Device(serial, setup.Profile.Name, certificate));
    }

    private static async Task<List<UploadView>> UploadsAsync(ManufacturerSetup setup) =>
        [.. (await setup.Customer.GetFromJsonAsync<PagedList<UploadView>>(
            $"/api/manufacturers/{setup.Credentials.ManufacturerId}/uploads?pageSize={Paging.MaxPageSize}"))!.Items];

    private static async Task<int> DeviceTotalAsync(ManufacturerSetup setup) =>
        (await setup.Customer.GetFromJsonAsync<PagedList<DeviceSummary>>("/api/devices?pageSize=1"))!.Total;

    /// <summary>The group messages that bookkept this manufacturer's uploads, as lists of upload ids.</summary>
    private async Task<List<List<Guid>>> GroupsAsync(IEnumerable<Guid> uploadIds)
    {
        var ids = uploadIds.ToHashSet();
        await using var db = NpgsqlDataSource.Create(factory.ConnectionString);
        await using var command = db.CreateCommand("SELECT payload->'uploadIds' FROM outbox.messages WHERE type = 'drop.bookkeep-uploads'");
        var groups = new List<List<Guid>>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var group = JsonSerializer.Deserialize<List<Guid>>(reader.GetString(0))!;
            if (group.Any(ids.Contains))
                groups.Add(group);
        }

        return groups;
    }

    [Fact]
    public async Task Many_concurrent_single_record_uploads_on_one_session_are_each_bookkept_and_acknowledged()
    {
        const int files = 64;
        var setup = await ManufacturerSetup.CreateAsync(factory, "Group Commit Telecom");
        var keep = new List<IDisposable>();
        var records = Enumerable.Range(0, files).Select(i => Record(setup, $"SN-G{i:D3}", keep)).ToList();
        await using var drop = await setup.ConnectAsync(factory);

        await Task.WhenAll(records.Select((xml, i) => drop.UploadAsync($"g{i:D3}.xml", xml)));

        Assert.Equal(files, await DeviceTotalAsync(setup));
        var uploads = await UploadsAsync(setup);
        Assert.Equal(files, uploads.Count);
        Assert.All(uploads, u => Assert.Equal(UploadOutcome.Accepted, u.Outcome));
        // Every upload was bookkept by exactly one group, and the 64 CLOSEs in flight did not take 64 transactions.
        var groups = await GroupsAsync(uploads.Select(u => u.Id));
        Assert.Equal(uploads.Select(u => u.Id).Order(), groups.SelectMany(g => g).Order());
        Assert.True(groups.Count < files, $"{groups.Count} groups for {files} concurrent CLOSEs");
        keep.ForEach(k => k.Dispose());
    }

    [Fact]
    public async Task One_invalid_file_among_many_valid_ones_gets_its_own_error_and_the_others_are_bookkept()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Group Reject Telecom");
        var keep = new List<IDisposable>();
        var uploads = Enumerable.Range(0, 32).Select(i => (Name: $"r{i:D2}.xml", Xml: Record(setup, $"SN-R{i:D2}", keep))).ToList();
        uploads[13] = ("r13.xml", uploads[13].Xml.Replace("</serial-number>", "</serial-numbr>", StringComparison.Ordinal));
        await using var drop = await setup.ConnectAsync(factory);

        var answers = await Task.WhenAll(uploads.Select(async u =>
        {
            try
            {
                await drop.UploadAsync(u.Name, u.Xml);
                return (u.Name, Error: (SftpStatusException?)null);
            }
            catch (SftpStatusException e)
            {
                return (u.Name, Error: e);
            }
        }));

        var failed = Assert.Single(answers, a => a.Error is not null);
        Assert.Equal("r13.xml", failed.Name);
        Assert.Contains("not a valid onboarding-device document", failed.Error!.Message, StringComparison.Ordinal);
        Assert.Equal(31, await DeviceTotalAsync(setup));
        var stored = await UploadsAsync(setup);
        Assert.Equal(UploadOutcome.Rejected, stored.Single(u => u.FileName == "r13.xml").Outcome);
        Assert.All(stored.Where(u => u.FileName != "r13.xml"), u => Assert.Equal(UploadOutcome.Accepted, u.Outcome));
        keep.ForEach(k => k.Dispose());
    }

    [Fact]
    public async Task A_group_judges_each_file_alone_in_order_and_a_re_upload_within_it_is_unchanged()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Group Judge Telecom");
        using var device = setup.Ca.IssueDevice("SN-J1");
        using var impostor = setup.Ca.IssueDevice("SN-J1");
        using var other = setup.Ca.IssueDevice("SN-J2");
        var xml = DeviceRecordXml.Devices(DeviceRecordXml.Device("SN-J1", setup.Profile.Name, device));
        BookkeepingFile Upload(string name, string content) => new(name, Encoding.UTF8.GetBytes(content));
        using var scope = factory.Services.CreateScope();
        var bookkeeping = scope.ServiceProvider.GetRequiredService<IDeviceBookkeeping>();

        var outcomes = await bookkeeping.BookkeepGroupAsync(setup.Credentials.ManufacturerId, "test:group",
        [
            Upload("first.xml", xml),
            Upload("again.xml", xml),
            Upload("impostor.xml", DeviceRecordXml.Devices(DeviceRecordXml.Device("SN-J1", setup.Profile.Name, impostor))),
            Upload("broken.xml", "<devices"),
            Upload("other.xml", DeviceRecordXml.Devices(DeviceRecordXml.Device("SN-J2", setup.Profile.Name, other))),
        ], CancellationToken.None);

        Assert.Equal([true, true, false, false, true], outcomes.Select(o => o.Accepted));
        Assert.Equal("1 records: 1 new, 0 unchanged", outcomes[0].Summary);
        Assert.Equal("1 records: 0 new, 1 unchanged", outcomes[1].Summary);
        Assert.Contains("different certificate", outcomes[2].Reasons[0], StringComparison.Ordinal);
        Assert.Equal("1 records: 1 new, 0 unchanged", outcomes[4].Summary);
        var details = (await setup.Customer.GetFromJsonAsync<DeviceDetails>("/api/devices/SN-J1"))!;
        Assert.Equal(device.ExportCertificatePem().Trim(), details.CertificatePem.Trim());
        Assert.Contains("first.xml", Assert.Single(details.Timeline).Detail, StringComparison.Ordinal);
        Assert.Equal(2, await DeviceTotalAsync(setup));
    }

    [Fact]
    public async Task Concurrent_re_uploads_of_the_same_record_are_idempotent()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Group Duplicate Telecom");
        var keep = new List<IDisposable>();
        var same = Record(setup, "SN-SAME", keep);
        var uploads = Enumerable.Range(0, 24).Select(i => (Name: $"d{i:D2}.xml", Xml: i % 3 == 0 ? same : Record(setup, $"SN-D{i:D2}", keep))).ToList();
        await using var drop = await setup.ConnectAsync(factory);

        await Task.WhenAll(uploads.Select(u => drop.UploadAsync(u.Name, u.Xml)));

        var details = (await setup.Customer.GetFromJsonAsync<DeviceDetails>("/api/devices/SN-SAME"))!;
        Assert.Single(details.Timeline);
        Assert.Equal(1 + 16, await DeviceTotalAsync(setup));
        var duplicates = (await UploadsAsync(setup)).Where(u => uploads.Index().Any(x => x.Index % 3 == 0 && x.Item.Name == u.FileName)).ToList();
        Assert.Equal(8, duplicates.Count);
        Assert.All(duplicates, u => Assert.Equal(UploadOutcome.Accepted, u.Outcome));
        Assert.Single(duplicates, u => u.Summary == "1 records: 1 new, 0 unchanged");
        Assert.Equal(7, duplicates.Count(u => u.Summary == "1 records: 0 new, 1 unchanged"));
        keep.ForEach(k => k.Dispose());
    }

    [Fact]
    public async Task A_disconnect_mid_group_loses_nothing_already_acknowledged_and_the_drop_serves_on()
    {
        const int files = 96;
        var setup = await ManufacturerSetup.CreateAsync(factory, "Group Disconnect Telecom");
        var keep = new List<IDisposable>();
        var uploads = Enumerable.Range(0, files).Select(i => (Name: $"x{i:D2}.xml", Serial: $"SN-X{i:D2}")).ToList();
        var records = uploads.ToDictionary(u => u.Name, u => Record(setup, u.Serial, keep));
        var acknowledged = new List<string>();
        var enough = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var drop = await setup.ConnectAsync(factory);

        var all = Task.WhenAll(uploads.Select(async u =>
        {
            try
            {
                await drop.UploadAsync(u.Name, records[u.Name]);
                lock (acknowledged)
                {
                    acknowledged.Add(u.Name);
                    if (acknowledged.Count == 16)
                        enough.TrySetResult();
                }
            }
#pragma warning disable CA1031 // The connection is cut under these uploads: any failure is an unacknowledged upload.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }));
        await enough.Task.WaitAsync(TimeSpan.FromSeconds(60));
        drop.Cut();
        await all.WaitAsync(TimeSpan.FromSeconds(60));
        await drop.DisposeAsync();

        // Every stored upload gets its outcome even though its session is gone; poll until none is pending.
        List<UploadView> stored;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((stored = await UploadsAsync(setup)).Any(u => u.Outcome == UploadOutcome.Pending))
        {
            Assert.True(DateTime.UtcNow < deadline, "uploads still pending after the disconnect");
            await Task.Delay(100);
        }

        string[] acked;
        lock (acknowledged)
            acked = [.. acknowledged];
        Assert.True(acked.Length >= 16);
        Assert.All(acked, name => Assert.Equal(UploadOutcome.Accepted, Assert.Single(stored, u => u.FileName == name).Outcome));
        Assert.All(stored, u => Assert.Equal(UploadOutcome.Accepted, u.Outcome));
        Assert.Equal(stored.Count, await DeviceTotalAsync(setup));
        Assert.Equal(stored.Count, stored.Select(u => u.FileName).Distinct().Count());

        await using var again = await setup.ConnectAsync(factory);
        await again.UploadAsync("after.xml", Record(setup, "SN-AFTER", keep));
        Assert.Equal(stored.Count + 1, await DeviceTotalAsync(setup));
        keep.ForEach(k => k.Dispose());
    }

    [Fact]
    [Trait("Category", "Interop")]
    public async Task Paramiko_pipelining_every_close_on_one_session_hears_each_file_s_own_outcome()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Group Paramiko Telecom");
        var keep = new List<IDisposable>();
        var files = Enumerable.Range(0, 40).Select(i => new[] { $"p{i:D2}.xml", Record(setup, $"SN-P{i:D2}", keep) }).ToList();
        files[7][1] = files[7][1].Replace(setup.Profile.Name, "Another Customer", StringComparison.Ordinal);
        files.Add(["p-again.xml", files[3][1]]);
        // SFTP v3 by hand over paramiko's channel: every OPEN, then every WRITE and CLOSE, before reading their answers.
        const string script = """
            import json, struct, sys, paramiko
            port, user, password, known_hosts = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
            files = json.load(sys.stdin)
            client = paramiko.SSHClient()
            client.load_host_keys(known_hosts)
            client.set_missing_host_key_policy(paramiko.RejectPolicy())
            client.connect("127.0.0.1", port=port, username=user, password=password, look_for_keys=False, allow_agent=False)
            chan = client.get_transport().open_session()
            chan.invoke_subsystem("sftp")
            def string(b): return struct.pack(">I", len(b)) + b
            def send(kind, body): chan.sendall(struct.pack(">IB", len(body) + 1, kind) + body)
            def exact(n):
                buf = b""
                while len(buf) < n:
                    chunk = chan.recv(n - len(buf))
                    if not chunk: raise EOFError("channel closed")
                    buf += chunk
                return buf
            def receive():
                length, = struct.unpack(">I", exact(4))
                data = exact(length)
                return data[0], data[1:]
            send(1, struct.pack(">I", 3))
            assert receive()[0] == 2
            for i, (name, _) in enumerate(files):
                send(3, struct.pack(">I", i) + string(("/incoming/" + name).encode()) + struct.pack(">II", 0x02 | 0x08 | 0x10, 0))
            handles = {}
            for _ in files:
                kind, body = receive()
                assert kind == 102, (kind, body)
                rid, = struct.unpack(">I", body[:4])
                handles[rid] = body[8:8 + struct.unpack(">I", body[4:8])[0]]
            for i, (_, content) in enumerate(files):
                send(6, struct.pack(">I", 1000 + i) + string(handles[i]) + struct.pack(">Q", 0) + string(content.encode()))
                send(4, struct.pack(">I", 2000 + i) + string(handles[i]))
            answers = {}
            for _ in range(2 * len(files)):
                kind, body = receive()
                assert kind == 101, (kind, body)
                rid, code, length = struct.unpack(">III", body[:12])
                answers[files[rid % 1000][0] + (":close" if rid >= 2000 else ":write")] = [code, body[12:12 + length].decode()]
            print(json.dumps(answers))
            client.close()
            """;
        var port = factory.SftpPort;
        var result = await ExternalTool.RunAsync("/usr/bin/python3", ["-c", script, port.ToString(CultureInfo.InvariantCulture),
            setup.Credentials.Username, setup.Credentials.Passphrase, setup.WriteKnownHosts(port)], stdin: JsonSerializer.Serialize(files));

        Assert.True(result.ExitCode == 0, result.Stderr);
        var answers = JsonSerializer.Deserialize<Dictionary<string, JsonElement[]>>(result.Stdout)!;
        Assert.Equal(2 * files.Count, answers.Count);
        Assert.All(answers.Where(a => a.Key.EndsWith(":write", StringComparison.Ordinal)), a => Assert.Equal(0, a.Value[0].GetInt32()));
        var closes = answers.Where(a => a.Key.EndsWith(":close", StringComparison.Ordinal)).ToDictionary(a => a.Key, a => a.Value);
        Assert.Equal((int)SftpStatusCode.Failure, closes["p07.xml:close"][0].GetInt32());
        Assert.Contains("is not the customer this SFTP account belongs to", closes["p07.xml:close"][1].GetString()!, StringComparison.Ordinal);
        Assert.All(closes.Where(c => c.Key != "p07.xml:close"), c => Assert.Equal(0, c.Value[0].GetInt32()));
        Assert.Equal(39, await DeviceTotalAsync(setup));
        keep.ForEach(k => k.Dispose());
    }
}
