using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Npgsql;
using Onboarding.Drop.Api;
using Onboarding.Drop.Data;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.Inventory.Api;
using Onboarding.ServiceDefaults.Http;
using Onboarding.Sftp;
using Serilog.Events;

namespace Onboarding.IntegrationTests;

/// <summary>One group at a time, so the CLOSEs that queue behind the first one are stored as one group.</summary>
public sealed class GroupQuotaFactory : OnboardingFactory
{
    public GroupQuotaFactory()
    {
        With("Drop:Quota:MaxFiles", "5");
        With("Drop:MaxConcurrentGroups", "1");
    }
}

/// <summary>
/// Issue 14: a group's uploads are stored with one statement that reserves their quota and inserts them only if they
/// fit; near the quota the group is stored file by file. Either way the usage row equals what is stored.
/// </summary>
public class DropGroupQuotaTests(GroupQuotaFactory factory) : IClassFixture<GroupQuotaFactory>
{
    [Fact]
    public async Task A_group_that_does_not_fit_the_quota_keeps_what_fits_refuses_the_rest_and_counts_each_stored_file_once()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Group Quota Telecom");
        var keep = new List<IDisposable>();
        string Record(string serial)
        {
            var certificate = setup.Ca.IssueDevice(serial);
            keep.Add(certificate);
            return DeviceRecordXml.Devices(DeviceRecordXml.Device(serial, setup.Profile.Name, certificate));
        }

        await using var drop = await setup.ConnectAsync(factory);
        await drop.UploadAsync("first.xml", Record("SN-GQ-FIRST"));
        var files = Enumerable.Range(0, 8).Select(i => (Name: $"gq{i}.xml", Xml: Record($"SN-GQ{i}"))).ToList();

        var answers = await Task.WhenAll(files.Select(async f =>
        {
            try
            {
                await drop.UploadAsync(f.Name, f.Xml);
                return (f.Name, Error: (SftpStatusException?)null);
            }
            catch (SftpStatusException e)
            {
                return (f.Name, Error: e);
            }
        }));

        // 5 files of quota, one used: four of the eight fit, the other four are refused and nothing of them is kept.
        Assert.Equal(4, answers.Count(a => a.Error is null));
        Assert.All(answers.Where(a => a.Error is not null), a => Assert.Contains("quota exceeded", a.Error!.Message, StringComparison.Ordinal));
        var stored = (await setup.Customer.GetFromJsonAsync<PagedList<UploadView>>(
            $"/api/manufacturers/{setup.Credentials.ManufacturerId}/uploads?pageSize={Paging.MaxPageSize}"))!.Items;
        Assert.Equal(5, stored.Count);
        Assert.All(stored, u => Assert.Equal(UploadOutcome.Accepted, u.Outcome));
        Assert.Equal(answers.Where(a => a.Error is null).Select(a => a.Name).Append("first.xml").Order(), stored.Select(u => u.FileName).Order());
        Assert.Equal(5, (await setup.Customer.GetFromJsonAsync<PagedList<DeviceSummary>>("/api/devices?pageSize=1"))!.Total);

        // Each stored row holds its own file: name, size, hash and bytes line up (the group is inserted from arrays).
        var sent = files.ToDictionary(f => f.Name, f => f.Xml);
        foreach (var upload in stored.Where(u => u.FileName != "first.xml"))
        {
            var bytes = Encoding.UTF8.GetBytes(sent[upload.FileName]);
            Assert.Equal(bytes.Length, upload.Size);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), upload.Sha256);
            Assert.Equal(bytes, await setup.Customer.GetByteArrayAsync($"/api/manufacturers/{setup.Credentials.ManufacturerId}/uploads/{upload.Id}/content"));
        }

        // The running total counts every stored file once, and nothing refused.
        await using var db = NpgsqlDataSource.Create(factory.ConnectionString);
        await using var usage = db.CreateCommand("SELECT files, bytes FROM drop.manufacturer_usage WHERE manufacturer_id = $1");
        usage.Parameters.AddWithValue(setup.Credentials.ManufacturerId);
        await using var reader = await usage.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(5, reader.GetInt32(0));
        Assert.Equal(stored.Sum(u => u.Size), reader.GetInt64(1));
        Assert.Equal(0UL, (await drop.Sftp.StatVfsAsync("/")).FreeFiles);
        keep.ForEach(k => k.Dispose());
    }
}

/// <summary>Issue 14: a busy drop logs one line per committed group, and a line per file only for a file that failed.</summary>
public class DropGroupLogTests(OnboardingFactory factory) : IClassFixture<OnboardingFactory>
{
    [Fact]
    public async Task A_group_logs_one_line_with_its_counts_and_a_rejected_file_gets_its_own_line_naming_the_connection()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Group Log Telecom");
        var keep = new List<IDisposable>();
        var uploads = Enumerable.Range(0, 24).Select(i =>
        {
            var certificate = setup.Ca.IssueDevice($"SN-L{i:D2}");
            keep.Add(certificate);
            return (Name: $"l{i:D2}.xml", Xml: DeviceRecordXml.Devices(DeviceRecordXml.Device($"SN-L{i:D2}", setup.Profile.Name, certificate)));
        }).ToList();
        uploads[7] = ("l07.xml", uploads[7].Xml.Replace("</serial-number>", "</serial-numbr>", StringComparison.Ordinal));
        await using var drop = await setup.ConnectAsync(factory);

        await Task.WhenAll(uploads.Select(async u =>
        {
            try
            {
                await drop.UploadAsync(u.Name, u.Xml);
            }
            catch (SftpStatusException) when (u.Name == "l07.xml")
            {
                // Expected: the invalid file is rejected; asserted through the logs below.
            }
        }));

        var manufacturer = setup.Credentials.ManufacturerId.ToString();
        var events = factory.Logs.Events;
        var groups = events.Where(e => e.MessageTemplate.Text.StartsWith("Group of {Count} uploads", StringComparison.Ordinal)
            && e.Properties["ManufacturerId"].ToString() == manufacturer).ToList();
        Assert.NotEmpty(groups);
        int Sum(string property) => groups.Sum(g => int.Parse(g.Properties[property].ToString(), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(24, Sum("Count"));
        Assert.Equal(23, Sum("Accepted"));
        Assert.Equal(1, Sum("Rejected"));

        var rejected = Assert.Single(events, e => e.Level == LogEventLevel.Warning && e.MessageTemplate.Text.Contains("rejected: {Summary}", StringComparison.Ordinal)
            && e.Properties["FileName"].ToString() == "\"l07.xml\"");
        Assert.Contains("serial-numbr", rejected.RenderMessage(), StringComparison.Ordinal);
        Assert.Matches("on connection \"?[0-9a-f]{12}\"? rejected", rejected.RenderMessage());
        // No Information line per accepted file or per OPEN any more.
        Assert.DoesNotContain(events, e => e.Level >= LogEventLevel.Information
            && (e.MessageTemplate.Text.Contains("accepted: {Summary}", StringComparison.Ordinal) || e.MessageTemplate.Text == "Upload of {FileName} started"));
        keep.ForEach(k => k.Dispose());
    }
}

/// <summary>A backlog threshold no burst reaches: while one group commits, every other CLOSE must wait for the next one.</summary>
public sealed class OneGroupAtATimeFactory : OnboardingFactory
{
    public OneGroupAtATimeFactory() => With("Drop:MinFilesForConcurrentGroup", "100000");
}

/// <summary>
/// Issue 14: a CLOSE that finds a group committing and too small a backlog for another waits in the queue; the group
/// that is committing takes it next. None is left waiting (the queue and the count of committing groups change under
/// one lock), and the waiting CLOSEs go in as whole groups.
/// </summary>
public class DropGroupBacklogTests(OneGroupAtATimeFactory factory) : IClassFixture<OneGroupAtATimeFactory>
{
    [Fact]
    public async Task Closes_that_wait_behind_a_committing_group_are_all_committed_by_the_next_groups()
    {
        const int files = 40;
        var setup = await ManufacturerSetup.CreateAsync(factory, "Group Backlog Telecom");
        var keep = new List<IDisposable>();
        var records = Enumerable.Range(0, files).Select(i =>
        {
            var certificate = setup.Ca.IssueDevice($"SN-B{i:D2}");
            keep.Add(certificate);
            return DeviceRecordXml.Devices(DeviceRecordXml.Device($"SN-B{i:D2}", setup.Profile.Name, certificate));
        }).ToList();
        await using var drop = await setup.ConnectAsync(factory);

        await Task.WhenAll(records.Select((xml, i) => drop.UploadAsync($"b{i:D2}.xml", xml)));

        Assert.Equal(files, (await setup.Customer.GetFromJsonAsync<PagedList<DeviceSummary>>("/api/devices?pageSize=1"))!.Total);
        var manufacturer = setup.Credentials.ManufacturerId.ToString();
        var groups = factory.Logs.Events.Where(e => e.MessageTemplate.Text.StartsWith("Group of {Count} uploads", StringComparison.Ordinal)
            && e.Properties["ManufacturerId"].ToString() == manufacturer)
            .Select(e => int.Parse(e.Properties["Count"].ToString(), System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(files, groups.Sum());
        Assert.True(groups.Count < files, $"{groups.Count} groups for {files} concurrent CLOSEs");
        keep.ForEach(k => k.Dispose());
    }
}
