using System.Net;
using System.Net.Http.Json;
using System.Text;
using Onboarding.Drop.Api;
using Onboarding.Drop.Data;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.ServiceDefaults.Http;
using Onboarding.Inventory.Api;
using Onboarding.Inventory.Contracts;
using Onboarding.Sftp;
using Onboarding.Ssh;

namespace Onboarding.IntegrationTests;

/// <summary>The drop's rules, exercised over real sockets with our own SSH and SFTP clients.</summary>
public class DropTests(OnboardingFactory factory) : IClassFixture<OnboardingFactory>
{
    private static async Task<SftpStatusException> RejectedUploadAsync(DropClient drop, string name, string content) =>
        await Assert.ThrowsAsync<SftpStatusException>(() => drop.UploadAsync(name, content));

    private static async Task<UploadView> LatestUploadAsync(ManufacturerSetup setup) =>
        (await setup.Customer.GetFromJsonAsync<PagedList<UploadView>>($"/api/manufacturers/{setup.Credentials.ManufacturerId}/uploads"))!.Items[0];

    [Fact]
    public async Task A_list_of_records_is_bookkept_with_a_timeline_per_device()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Bulk Telecom");
        using var a = setup.Ca.IssueDevice("SN-A");
        using var b = setup.Ca.IssueDevice("SN-B");
        await using var drop = await setup.ConnectAsync(factory);

        await drop.UploadAsync("two.xml", DeviceRecordXml.Devices(
            DeviceRecordXml.Device("SN-A", setup.Profile.Name, a), DeviceRecordXml.Device("SN-B", setup.Profile.Id.ToString(), b, pem: false)));

        var page = (await setup.Customer.GetFromJsonAsync<PagedList<DeviceSummary>>("/api/devices"))!;
        Assert.Equal(["SN-A", "SN-B"], page.Items.Select(d => d.SerialNumber).Order());
        Assert.All(page.Items, d => Assert.Equal(DeviceState.Bookkept, d.State));
        var details = (await setup.Customer.GetFromJsonAsync<DeviceDetails>("/api/devices/SN-B"))!;
        Assert.Equal(b.ExportCertificatePem().Trim(), details.CertificatePem.Trim());
        Assert.Equal("00:11:22:33:44:55", details.MacAddress);
        Assert.Equal(UploadOutcome.Accepted, (await LatestUploadAsync(setup)).Outcome);
        Assert.Contains("2 new, 0 unchanged", await drop.ReadAsync("/processed/two.xml.result"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Uploading_the_same_record_twice_is_a_no_op()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Idempotent Telecom");
        using var device = setup.Ca.IssueDevice("SN-SAME");
        var xml = DeviceRecordXml.Devices(DeviceRecordXml.Device("SN-SAME", setup.Profile.Name, device));
        await using var drop = await setup.ConnectAsync(factory);

        await drop.UploadAsync("first.xml", xml);
        await drop.UploadAsync("again.xml", xml);

        var details = (await setup.Customer.GetFromJsonAsync<DeviceDetails>("/api/devices/SN-SAME"))!;
        Assert.Single(details.Timeline);
        Assert.Contains("0 new, 1 unchanged", await drop.ReadAsync("/processed/again.xml.result"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_different_certificate_for_a_known_serial_is_a_conflict_and_the_original_is_kept()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Conflict Telecom");
        using var original = setup.Ca.IssueDevice("SN-DUP");
        using var impostor = setup.Ca.IssueDevice("SN-DUP");
        await using var drop = await setup.ConnectAsync(factory);
        await drop.UploadAsync("original.xml", DeviceRecordXml.Devices(DeviceRecordXml.Device("SN-DUP", setup.Profile.Name, original)));

        var error = await RejectedUploadAsync(drop, "impostor.xml", DeviceRecordXml.Devices(DeviceRecordXml.Device("SN-DUP", setup.Profile.Name, impostor)));

        Assert.Equal(SftpStatusCode.Failure, error.Code);
        Assert.Contains("record rejected", error.Message, StringComparison.Ordinal);
        Assert.Contains("different certificate", await drop.ReadAsync("/rejected/impostor.xml.result"), StringComparison.Ordinal);
        var details = (await setup.Customer.GetFromJsonAsync<DeviceDetails>("/api/devices/SN-DUP"))!;
        Assert.Equal(original.ExportCertificatePem().Trim(), details.CertificatePem.Trim());
    }

    [Theory]
    [InlineData("serial-mismatch", "does not match serial-number")]
    [InlineData("wrong-owner", "is not the customer this SFTP account belongs to")]
    [InlineData("foreign-ca", "does not chain to the manufacturer's CA")]
    [InlineData("expired", "not valid now")]
    [InlineData("not-a-certificate", "neither PEM nor base64 DER")]
    public async Task Invalid_records_are_rejected_with_the_exact_reason_and_nothing_is_bookkept(string defect, string reason)
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, $"Defect {defect} Telecom");
        using var foreignCa = new FactoryCa("Someone Else CA");
        using var good = setup.Ca.IssueDevice("SN-GOOD");
        using var certificate = defect switch
        {
            "serial-mismatch" => setup.Ca.IssueDevice("SN-BAD", subjectSerial: "SN-NOT-THIS"),
            "foreign-ca" => foreignCa.IssueDevice("SN-BAD"),
            "expired" => setup.Ca.IssueDevice("SN-BAD", notAfter: DateTimeOffset.UtcNow.AddMinutes(-1)),
            _ => setup.Ca.IssueDevice("SN-BAD"),
        };
        var bad = DeviceRecordXml.Device("SN-BAD", defect == "wrong-owner" ? "Another Customer" : setup.Profile.Name, certificate);
        if (defect == "not-a-certificate")
            bad = bad.Replace("-----BEGIN CERTIFICATE-----", "-----BEGIN CERTIFICATE-----\n!!!", StringComparison.Ordinal);
        await using var drop = await setup.ConnectAsync(factory);

        var error = await RejectedUploadAsync(drop, "mixed.xml", DeviceRecordXml.Devices(DeviceRecordXml.Device("SN-GOOD", setup.Profile.Name, good), bad));

        Assert.Contains("1 of 2 records rejected", error.Message, StringComparison.Ordinal);
        var report = await drop.ReadAsync("/rejected/mixed.xml.result");
        Assert.Contains(reason, report, StringComparison.Ordinal);
        Assert.Contains("serial-number SN-BAD: REJECTED", report, StringComparison.Ordinal);
        Assert.Equal(0, (await setup.Customer.GetFromJsonAsync<PagedList<DeviceSummary>>("/api/devices"))!.Total);
        var upload = await LatestUploadAsync(setup);
        Assert.Equal(UploadOutcome.Rejected, upload.Outcome);
        Assert.True(upload.Size > 0);
    }

    [Fact]
    public async Task A_good_record_in_a_rejected_file_is_reported_as_not_bookkept()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "All Or Nothing Telecom");
        using var good = setup.Ca.IssueDevice("SN-OK");
        using var bad = setup.Ca.IssueDevice("SN-KO", subjectSerial: "SN-NOT-KO");
        await using var drop = await setup.ConnectAsync(factory);

        await RejectedUploadAsync(drop, "half.xml", DeviceRecordXml.Devices(
            DeviceRecordXml.Device("SN-OK", setup.Profile.Name, good), DeviceRecordXml.Device("SN-KO", setup.Profile.Name, bad)));

        var report = await drop.ReadAsync("/rejected/half.xml.result");
        Assert.Contains("serial-number SN-OK: acceptable, but not bookkept: the file was rejected", report, StringComparison.Ordinal);
        Assert.DoesNotContain("bookkept (new)", report, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await setup.Customer.GetAsync("/api/devices/SN-OK")).StatusCode);
    }

    [Fact]
    public async Task A_rejection_tells_the_uploader_the_first_reasons_cut_to_a_bounded_length_then_where_the_report_is()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Many Reasons Telecom");
        // Six records, each with two long reasons (a 200-character wrong owner, and a serial mismatch): ~400 characters each.
        var wrongOwner = new string('x', 200);
        var certificates = Enumerable.Range(1, 6).Select(i => setup.Ca.IssueDevice($"SN-R{i}", subjectSerial: $"SN-OTHER{i}")).ToList();
        try
        {
            await using var drop = await setup.ConnectAsync(factory);

            var error = await RejectedUploadAsync(drop, "many.xml",
                DeviceRecordXml.Devices([.. certificates.Select((c, i) => DeviceRecordXml.Device($"SN-R{i + 1}", wrongOwner, c))]));

            Assert.StartsWith("record rejected: many.xml: 6 of 6 records rejected; nothing from this file was bookkept: record at line ", error.Message, StringComparison.Ordinal);
            Assert.Contains($"serial-number SN-R1: owner '{wrongOwner}' is not the customer this SFTP account belongs to", error.Message, StringComparison.Ordinal);
            Assert.Contains("the certificate's serial 'SN-OTHER1' does not match serial-number 'SN-R1'", error.Message, StringComparison.Ordinal);
            Assert.Contains("the certificate's serial 'SN-OTHER2' does not match serial-number 'SN-R2'", error.Message, StringComparison.Ordinal);
            // The third reason no longer fits in 1,000 characters: it is cut, and the other three are counted, not shown.
            Assert.Contains("serial-number SN-R3: owner 'xxx", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("SN-OTHER3", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("SN-R4", error.Message, StringComparison.Ordinal);
            Assert.EndsWith("…; …and 3 more (details in /rejected/many.xml.result)", error.Message, StringComparison.Ordinal);
            Assert.InRange(error.Message.Length, 1000, 1200);
        }
        finally
        {
            certificates.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task A_just_closed_upload_is_statable_and_listed_in_incoming_for_its_own_manufacturer_only()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Recent Upload Telecom");
        var other = await ManufacturerSetup.CreateAsync(factory, "Other Recent Telecom");
        using var device = setup.Ca.IssueDevice("SN-RECENT");
        var xml = DeviceRecordXml.Devices(DeviceRecordXml.Device("SN-RECENT", setup.Profile.Name, device));
        await using (var upload = await setup.ConnectAsync(factory))
            await upload.UploadAsync("fresh.xml", xml);

        // A new session (as from another host): the stored upload answers, with its size, a regular file's mode and its time.
        await using var drop = await setup.ConnectAsync(factory);
        var attributes = await drop.Sftp.StatAsync("/incoming/fresh.xml");
        Assert.Equal((ulong)Encoding.UTF8.GetByteCount(xml), attributes.Size);
        Assert.Equal(0x8000u, attributes.Permissions!.Value & 0xF000);
        Assert.InRange((long)attributes.ModifyTime!.Value, DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeSeconds());
        var listed = Assert.Single(await drop.Sftp.ListDirectoryAsync("/incoming"), e => e.FileName == "fresh.xml");
        Assert.Equal(attributes.Size, listed.Attributes.Size);
        Assert.Equal(SftpStatusCode.PermissionDenied, (await Assert.ThrowsAsync<SftpStatusException>(() => drop.ReadAsync("/incoming/fresh.xml"))).Code);
        Assert.Equal(SftpStatusCode.NoSuchFile, (await Assert.ThrowsAsync<SftpStatusException>(() => drop.Sftp.StatAsync("/incoming/never.xml"))).Code);

        await using var stranger = await other.ConnectAsync(factory);
        Assert.Equal(SftpStatusCode.NoSuchFile, (await Assert.ThrowsAsync<SftpStatusException>(() => stranger.Sftp.StatAsync("/incoming/fresh.xml"))).Code);
        Assert.DoesNotContain(await stranger.Sftp.ListDirectoryAsync("/incoming"), e => e.FileName == "fresh.xml");
    }

    [Theory]
    [InlineData("not xml at all", "not well-formed XML")]
    [InlineData("<devices xmlns=\"urn:other\"/>", "root element must be")]
    [InlineData("<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY x \"boom\">]><devices xmlns=\"urn:onboarding:params:xml:ns:yang:onboarding-device\">&x;</devices>", "DTD")]
    [InlineData("<devices xmlns=\"urn:onboarding:params:xml:ns:yang:onboarding-device\"><device><serial-number>X</serial-number></device></devices>", "invalid")]
    [InlineData("<devices xmlns=\"urn:onboarding:params:xml:ns:yang:onboarding-device\"></devices>", "no device records")]
    public async Task Invalid_xml_is_rejected_and_the_raw_upload_is_kept(string content, string reason)
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Xml Telecom " + Guid.NewGuid().ToString("N")[..6]);
        await using var drop = await setup.ConnectAsync(factory);

        var error = await RejectedUploadAsync(drop, "broken.xml", content);

        Assert.Contains("record rejected", error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, await drop.ReadAsync("/rejected/broken.xml.result"), StringComparison.OrdinalIgnoreCase);
        var upload = await LatestUploadAsync(setup);
        var raw = await setup.Customer.GetByteArrayAsync($"/api/manufacturers/{setup.Credentials.ManufacturerId}/uploads/{upload.Id}/content");
        Assert.Equal(content, Encoding.UTF8.GetString(raw));
    }

    [Theory]
    [InlineData("/incoming/../../etc/passwd")]
    [InlineData("/incoming/..")]
    [InlineData("../incoming/x.xml")]
    public async Task Path_traversal_is_refused(string path)
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Traversal Telecom " + Guid.NewGuid().ToString("N")[..6]);
        await using var drop = await setup.ConnectAsync(factory);
        var error = await Assert.ThrowsAsync<SftpStatusException>(() => drop.Sftp.UploadAsync(path, new MemoryStream([1, 2, 3])));
        Assert.Equal(SftpStatusCode.PermissionDenied, error.Code);
        Assert.Contains("'..' is not allowed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nothing_of_the_host_filesystem_is_reachable()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Host Fs Telecom");
        await using var drop = await setup.ConnectAsync(factory);

        Assert.Equal(SftpStatusCode.NoSuchFile, (await Assert.ThrowsAsync<SftpStatusException>(() => drop.ReadAsync("/etc/passwd"))).Code);
        Assert.Equal(SftpStatusCode.NoSuchFile, (await Assert.ThrowsAsync<SftpStatusException>(() => drop.Sftp.ListDirectoryAsync("/etc"))).Code);
        Assert.Equal("/", await drop.Sftp.RealPathAsync("."));
        Assert.Equal(SftpStatusCode.PermissionDenied,
            (await Assert.ThrowsAsync<SftpStatusException>(() => drop.Sftp.SymlinkAsync("/incoming/link", "/etc/passwd"))).Code);
        Assert.Equal(SftpStatusCode.PermissionDenied,
            (await Assert.ThrowsAsync<SftpStatusException>(() => drop.Sftp.ReadLinkAsync("/incoming/link"))).Code);
        Assert.Equal(SftpStatusCode.PermissionDenied,
            (await Assert.ThrowsAsync<SftpStatusException>(() => drop.Sftp.UploadAsync("/incoming/bad\u0001name.xml", new MemoryStream([1])))).Code);
        Assert.Equal(SftpStatusCode.PermissionDenied,
            (await Assert.ThrowsAsync<SftpStatusException>(() => drop.Sftp.UploadAsync("/processed/forged.xml.result", new MemoryStream([1])))).Code);
        Assert.Equal(SftpStatusCode.PermissionDenied, (await Assert.ThrowsAsync<SftpStatusException>(() => drop.Sftp.MakeDirectoryAsync("/incoming/sub"))).Code);
        Assert.Equal(SftpStatusCode.PermissionDenied, (await Assert.ThrowsAsync<SftpStatusException>(() => drop.Sftp.RemoveAsync("/processed/x.result"))).Code);
        Assert.Equal(["incoming", "processed", "rejected"],
            (await drop.Sftp.ListDirectoryAsync("/")).Select(e => e.FileName).Where(n => n is not "." and not "..").Order());
    }

    [Fact]
    public async Task A_file_over_the_size_limit_is_refused()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Big File Telecom");
        await using var drop = await setup.ConnectAsync(factory);
        var error = await Assert.ThrowsAsync<SftpStatusException>(() => drop.Sftp.UploadAsync("/incoming/huge.xml", new MemoryStream(new byte[5 * 1024 * 1024])));
        Assert.Contains("maximum file size", error.Message, StringComparison.Ordinal);
        // The client still closed the handle; the truncated file must not have been kept or bookkept.
        Assert.Equal(0, (await setup.Customer.GetFromJsonAsync<PagedList<UploadView>>($"/api/manufacturers/{setup.Credentials.ManufacturerId}/uploads"))!.Total);
    }

    [Fact]
    public async Task A_file_with_a_gap_is_not_committed_at_close()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Gap Telecom");
        using var device = setup.Ca.IssueDevice("SN-GAP");
        var xml = Encoding.UTF8.GetBytes(DeviceRecordXml.Devices(DeviceRecordXml.Device("SN-GAP", setup.Profile.Name, device)));
        await using var drop = await setup.ConnectAsync(factory);

        var handle = await drop.Sftp.OpenAsync("/incoming/gap.xml", SftpOpenFlags.Write | SftpOpenFlags.Create | SftpOpenFlags.Truncate);
        await drop.Sftp.WriteAsync(handle, 100, xml.AsMemory(100));
        var error = await Assert.ThrowsAsync<SftpStatusException>(() => drop.Sftp.CloseAsync(handle));

        Assert.Contains("never written", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, (await setup.Customer.GetFromJsonAsync<PagedList<UploadView>>($"/api/manufacturers/{setup.Credentials.ManufacturerId}/uploads"))!.Total);
    }

    [Fact]
    public async Task Out_of_order_writes_make_a_whole_file()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Reorder Telecom");
        using var device = setup.Ca.IssueDevice("SN-REORDER");
        var xml = Encoding.UTF8.GetBytes(DeviceRecordXml.Devices(DeviceRecordXml.Device("SN-REORDER", setup.Profile.Name, device)));
        await using var drop = await setup.ConnectAsync(factory);

        var handle = await drop.Sftp.OpenAsync("/incoming/reorder.xml", SftpOpenFlags.Write | SftpOpenFlags.Create | SftpOpenFlags.Truncate);
        var chunks = Enumerable.Range(0, (xml.Length + 99) / 100).Reverse().ToList();
        await Task.WhenAll(chunks.Select(i => drop.Sftp.WriteAsync(handle, (ulong)(i * 100), xml.AsMemory(i * 100, Math.Min(100, xml.Length - (i * 100))))));
        await drop.Sftp.CloseAsync(handle);

        Assert.Equal(xml, await setup.Customer.GetByteArrayAsync(
            $"/api/manufacturers/{setup.Credentials.ManufacturerId}/uploads/{(await LatestUploadAsync(setup)).Id}/content"));
    }

    [Fact]
    public async Task Disabled_manufacturer_rotated_passphrase_and_unknown_user_cannot_log_in()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Login Telecom");
        var id = setup.Credentials.ManufacturerId;

        await Assert.ThrowsAsync<SshAuthenticationException>(() =>
            DropClient.ConnectAsync(factory.SftpPort, "m-nobody-abcdefgh", setup.Credentials.Passphrase, setup.Fingerprints));

        (await setup.Customer.PostAsync($"/api/manufacturers/{id}/disable", null)).EnsureSuccessStatusCode();
        await Assert.ThrowsAsync<SshAuthenticationException>(() => setup.ConnectAsync(factory));
        (await setup.Customer.PostAsync($"/api/manufacturers/{id}/enable", null)).EnsureSuccessStatusCode();
        await (await setup.ConnectAsync(factory)).DisposeAsync();

        var rotated = await setup.Customer.PostAsync($"/api/manufacturers/{id}/credentials", null);
        var fresh = (await rotated.Content.ReadFromJsonAsync<Onboarding.Accounts.Api.ManufacturerCredentials>())!;
        await Assert.ThrowsAsync<SshAuthenticationException>(() => setup.ConnectAsync(factory));
        await (await setup.ConnectAsync(factory, fresh.Passphrase)).DisposeAsync();
    }

    [Fact]
    public async Task Records_uploaded_after_the_manufacturer_was_disabled_mid_session_are_rejected()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Midway Telecom");
        using var device = setup.Ca.IssueDevice("SN-MID");
        await using var drop = await setup.ConnectAsync(factory);
        (await setup.Customer.PostAsync($"/api/manufacturers/{setup.Credentials.ManufacturerId}/disable", null)).EnsureSuccessStatusCode();

        var error = await RejectedUploadAsync(drop, "late.xml", DeviceRecordXml.Devices(DeviceRecordXml.Device("SN-MID", setup.Profile.Name, device)));
        Assert.Contains("disabled", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_host_key_is_pinned_a_client_expecting_another_fingerprint_refuses()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Pin Telecom");
        await Assert.ThrowsAnyAsync<SshProtocolException>(() =>
            DropClient.ConnectAsync(factory.SftpPort, setup.Credentials.Username, setup.Credentials.Passphrase, ["SHA256:not-the-nms-key"]));
    }

    [Fact]
    public async Task Another_tenants_uploads_are_404()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Owner Telecom");
        var (intruder, _) = await factory.SignUpAsync("Intruder Telecom");
        var response = await intruder.GetAsync($"/api/manufacturers/{setup.Credentials.ManufacturerId}/uploads");
        await Problem.AssertAsync(response, HttpStatusCode.NotFound);
        await Problem.AssertAsync(await intruder.GetAsync("/api/devices/SN-A"), HttpStatusCode.NotFound);

        // The raw content of a real upload: not the intruder's, so 404; an unknown upload id is 404 for the owner too.
        await using (var drop = await setup.ConnectAsync(factory))
            await Assert.ThrowsAsync<SftpStatusException>(() => drop.UploadAsync("owned.xml", "not xml"));
        var upload = await LatestUploadAsync(setup);
        var url = $"/api/manufacturers/{setup.Credentials.ManufacturerId}/uploads/{upload.Id}/content";
        await Problem.AssertAsync(await intruder.GetAsync(url), HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.OK, (await setup.Customer.GetAsync(url)).StatusCode);
        await Problem.AssertAsync(await setup.Customer.GetAsync(
            $"/api/manufacturers/{setup.Credentials.ManufacturerId}/uploads/{Guid.NewGuid()}/content"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Device_list_validates_its_filters()
    {
        var (client, _) = await factory.SignUpAsync("Filter Telecom");
        await Problem.AssertValidationAsync(await client.GetAsync("/api/devices?state=Exploded"), "state");
        await Problem.AssertValidationAsync(await client.GetAsync("/api/devices?pageSize=0"), "pageSize");
        await Problem.AssertValidationAsync(await client.GetAsync("/api/devices?page=2147483647&pageSize=500"), "page");
        await Problem.AssertAsync(await client.GetAsync("/api/devices?page=abc"), HttpStatusCode.BadRequest);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/devices?state=bookkept&page=2&pageSize=10")).StatusCode);
    }
}

public sealed class LockoutFactory : OnboardingFactory
{
    public LockoutFactory() => With("Drop:MaxFailedLogins", "3").With("Drop:LockoutDuration", "01:00:00");
}

public class DropLockoutTests(LockoutFactory factory) : IClassFixture<LockoutFactory>
{
    [Fact]
    public async Task Repeated_failures_lock_the_user_out_even_with_the_right_passphrase()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Lockout Telecom");
        for (var i = 0; i < 3; i++)
            await Assert.ThrowsAsync<SshAuthenticationException>(() => setup.ConnectAsync(factory, "wrong-" + i));

        await Assert.ThrowsAsync<SshAuthenticationException>(() => setup.ConnectAsync(factory));
        Assert.Contains(factory.Logs.RenderedMessages, m => m.Contains("locked out", StringComparison.Ordinal));
    }
}

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class DropPublicKeyTests(OnboardingFactory factory) : IClassFixture<OnboardingFactory>
{
    [Fact]
    public async Task A_registered_public_key_logs_in_with_OpenSSH_and_an_unregistered_one_does_not()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Key Telecom");
        using var key = Onboarding.Ssh.Keys.SshHostKey.GenerateEd25519();
        using var other = Onboarding.Ssh.Keys.SshHostKey.GenerateEd25519();
        var response = await setup.Customer.PutAsJsonAsync($"/api/manufacturers/{setup.Credentials.ManufacturerId}/sftp-public-key",
            new { publicKey = key.PublicKey.ToAuthorizedKeysLine("redirect@acme") });
        var view = (await response.Content.ReadFromJsonAsync<Onboarding.Accounts.Api.ManufacturerView>())!;
        Assert.Equal(key.PublicKey.Fingerprint, view.Sftp.PublicKeyFingerprint);

        var port = factory.SftpPort;
        var dir = Directory.CreateTempSubdirectory("onboarding-key-").FullName;
        async Task<ExternalTool.Result> LsWithKeyAsync(Onboarding.Ssh.Keys.SshHostKey identity)
        {
            var path = Path.Combine(dir, Guid.NewGuid().ToString("N"));
            await File.WriteAllTextAsync(path, identity.ToOpenSshPrivateKey());
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var batch = Path.Combine(dir, "batch");
            await File.WriteAllTextAsync(batch, "ls /\n");
            return await ExternalTool.RunAsync("sftp", ["-F", "/dev/null", "-o", "StrictHostKeyChecking=yes", "-o", $"UserKnownHostsFile={setup.WriteKnownHosts(port)}",
                "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "PasswordAuthentication=no", "-i", path,
                "-P", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-b", batch, $"{setup.Credentials.Username}@127.0.0.1"]);
        }

        var accepted = await LsWithKeyAsync(key);
        Assert.True(accepted.ExitCode == 0, accepted.Stderr);
        Assert.Contains("incoming", accepted.Stdout, StringComparison.Ordinal);
        var refused = await LsWithKeyAsync(other);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("Permission denied", refused.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("ssh-ed25519 not-base64!")]
    [InlineData("ssh-dss AAAAB3NzaC1kc3MAAACBAP1/U4Ed")]
    [InlineData("rsa-1024")]
    public async Task An_invalid_public_key_is_400(string publicKey)
    {
        var weakRsa = publicKey == "rsa-1024";
        if (weakRsa)
            publicKey = WeakRsaKeyLine();
        var setup = await ManufacturerSetup.CreateAsync(factory, "Bad Key Telecom " + Guid.NewGuid().ToString("N")[..6]);
        var problem = await Problem.AssertValidationAsync(
            await setup.Customer.PutAsJsonAsync($"/api/manufacturers/{setup.Credentials.ManufacturerId}/sftp-public-key", new { publicKey }), "publicKey");
        if (weakRsa)
            Assert.Contains("at least 2048 bits", problem.ToString(), StringComparison.Ordinal);
    }

    /// <summary>An ssh-rsa authorized_keys line for a 1024-bit key (RFC 4253 §6.6: string "ssh-rsa", mpint e, mpint n).</summary>
    private static string WeakRsaKeyLine()
    {
        using var rsa = System.Security.Cryptography.RSA.Create(1024);
        var parameters = rsa.ExportParameters(false);
        using var blob = new MemoryStream();
        void WriteString(ReadOnlySpan<byte> bytes)
        {
            Span<byte> length = stackalloc byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(length, bytes.Length);
            blob.Write(length);
            blob.Write(bytes);
        }

        byte[] Mpint(byte[] magnitude) => magnitude[0] >= 0x80 ? [0, .. magnitude] : magnitude;
        WriteString("ssh-rsa"u8);
        WriteString(Mpint(parameters.Exponent!));
        WriteString(Mpint(parameters.Modulus!));
        return "ssh-rsa " + Convert.ToBase64String(blob.ToArray()) + " weak@example";
    }
}

public sealed class ShortUploadVisibilityFactory : OnboardingFactory
{
    // Long enough that login, upload and STAT fit in it on a loaded CI machine (5 s did not, in a full parallel run).
    public ShortUploadVisibilityFactory() => With("Drop:RecentUploadVisibility", "00:00:15");
}

public class DropUploadVisibilityTests(ShortUploadVisibilityFactory factory) : IClassFixture<ShortUploadVisibilityFactory>
{
    [Fact]
    public async Task An_upload_leaves_incoming_once_its_visibility_has_passed()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Fading Upload Telecom");
        using var device = setup.Ca.IssueDevice("SN-FADE");
        await using var drop = await setup.ConnectAsync(factory);
        await drop.UploadAsync("fading.xml", DeviceRecordXml.Devices(DeviceRecordXml.Device("SN-FADE", setup.Profile.Name, device)));
        Assert.NotNull((await drop.Sftp.StatAsync("/incoming/fading.xml")).Size);

        await Task.Delay(TimeSpan.FromSeconds(16));

        Assert.Equal(SftpStatusCode.NoSuchFile, (await Assert.ThrowsAsync<SftpStatusException>(() => drop.Sftp.StatAsync("/incoming/fading.xml"))).Code);
        Assert.DoesNotContain(await drop.Sftp.ListDirectoryAsync("/incoming"), e => e.FileName == "fading.xml");
        Assert.Contains("outcome: ACCEPTED", await drop.ReadAsync("/processed/fading.xml.result"), StringComparison.Ordinal);
    }
}

public sealed class SmallQuotaFactory : OnboardingFactory
{
    public SmallQuotaFactory() => With("Drop:Quota:MaxFiles", "2");
}

public class DropQuotaTests(SmallQuotaFactory factory) : IClassFixture<SmallQuotaFactory>
{
    [Fact]
    public async Task Uploads_beyond_the_file_quota_are_refused_and_earlier_ones_are_kept()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Quota Telecom");
        await using var drop = await setup.ConnectAsync(factory);
        for (var i = 0; i < 2; i++)
        {
            using var device = setup.Ca.IssueDevice($"SN-Q{i}");
            await drop.UploadAsync($"q{i}.xml", DeviceRecordXml.Devices(DeviceRecordXml.Device($"SN-Q{i}", setup.Profile.Name, device)));
        }

        using var third = setup.Ca.IssueDevice("SN-Q2");
        var error = await Assert.ThrowsAsync<SftpStatusException>(() =>
            drop.UploadAsync("q2.xml", DeviceRecordXml.Devices(DeviceRecordXml.Device("SN-Q2", setup.Profile.Name, third))));

        Assert.Contains("quota exceeded", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, (await setup.Customer.GetFromJsonAsync<PagedList<DeviceSummary>>("/api/devices"))!.Total);
        var vfs = await drop.Sftp.StatVfsAsync("/");
        Assert.Equal(0UL, vfs.FreeFiles);
    }
}
