using System.Globalization;
using System.Net.Http.Json;
using Onboarding.Drop.Api;
using Onboarding.Drop.Data;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.ServiceDefaults.Http;
using Onboarding.Inventory.Api;
using Onboarding.Inventory.Contracts;

namespace Onboarding.IntegrationTests;

/// <summary>Manufacturers upload device records with real clients we did not write: OpenSSH sftp and scp, and paramiko.</summary>
[Trait("Category", "Interop")]
public class DropInteropTests(OnboardingFactory factory) : IClassFixture<OnboardingFactory>
{
    private static string[] SshOptions(string knownHosts) =>
    [
        "-F", "/dev/null", "-o", "StrictHostKeyChecking=yes", "-o", $"UserKnownHostsFile={knownHosts}", "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", "PreferredAuthentications=password", "-o", "PubkeyAuthentication=no", "-o", "NumberOfPasswordPrompts=1",
        // sftp -b implies BatchMode=yes, which would forbid the password prompt sshpass answers.
        "-o", "BatchMode=no",
    ];

    private async Task<ExternalTool.Result> SftpBatchAsync(ManufacturerSetup setup, string batch, string? passphrase = null)
    {
        var port = factory.SftpPort;
        var dir = Directory.CreateTempSubdirectory("onboarding-sftp-").FullName;
        var batchFile = Path.Combine(dir, "batch");
        await File.WriteAllTextAsync(batchFile, batch);
        return await ExternalTool.RunAsync("sshpass", ["-e", "sftp", .. SshOptions(setup.WriteKnownHosts(port)), "-P", port.ToString(CultureInfo.InvariantCulture),
            "-b", batchFile, $"{setup.Credentials.Username}@127.0.0.1"],
            environment: new Dictionary<string, string> { ["SSHPASS"] = passphrase ?? setup.Credentials.Passphrase });
    }

    [Fact]
    public async Task OpenSSH_sftp_batch_upload_is_bookkept_and_the_result_can_be_read_back()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Sftp Batch Telecom");
        using var device = setup.Ca.IssueDevice("JN-SFTP-0001");
        var dir = Directory.CreateTempSubdirectory("onboarding-rec-").FullName;
        var record = Path.Combine(dir, "batch-1.xml");
        await File.WriteAllTextAsync(record, DeviceRecordXml.Devices(DeviceRecordXml.Device("JN-SFTP-0001", setup.Profile.Name, device)));

        var result = await SftpBatchAsync(setup, $"put {record} /incoming/batch-1.xml\nls -l /processed\nget /processed/batch-1.xml.result {dir}/result.txt\n");

        Assert.True(result.ExitCode == 0, result.Stderr + result.Stdout);
        Assert.Contains("batch-1.xml.result", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("outcome: ACCEPTED", await File.ReadAllTextAsync(Path.Combine(dir, "result.txt")), StringComparison.Ordinal);

        var details = (await setup.Customer.GetFromJsonAsync<DeviceDetails>("/api/devices/JN-SFTP-0001"))!;
        Assert.Equal(DeviceState.Bookkept, details.State);
        var step = Assert.Single(details.Timeline);
        Assert.Equal($"sftp:{setup.Credentials.Username}", step.Source);
        Assert.Contains("batch-1.xml", step.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenSSH_sftp_shows_the_rejection_reason_to_the_user()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Sftp Reject Telecom");
        using var device = setup.Ca.IssueDevice("JN-SFTP-0002", subjectSerial: "JN-OTHER");
        var record = Path.Combine(Directory.CreateTempSubdirectory("onboarding-rec-").FullName, "bad.xml");
        await File.WriteAllTextAsync(record, DeviceRecordXml.Devices(DeviceRecordXml.Device("JN-SFTP-0002", setup.Profile.Name, device)));

        var result = await SftpBatchAsync(setup, $"put {record} /incoming/bad.xml\n");

        Assert.NotEqual(0, result.ExitCode);
        // The reason itself, not only a pointer to the report.
        Assert.Contains("record rejected: bad.xml: 1 of 1 records rejected; nothing from this file was bookkept: record at line ", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("serial-number JN-SFTP-0002: the certificate's serial 'JN-OTHER' does not match serial-number 'JN-SFTP-0002' (details in /rejected/bad.xml.result)",
            result.Stderr, StringComparison.Ordinal);
        Assert.Contains("does not match serial-number", (await setup.Customer.GetFromJsonAsync<PagedList<UploadView>>(
            $"/api/manufacturers/{setup.Credentials.ManufacturerId}/uploads"))!.Items.Single().Report, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenSSH_sftp_links_and_removals_are_refused()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Sftp Links Telecom");
        using var device = setup.Ca.IssueDevice("JN-LINK-0001");
        var record = Path.Combine(Directory.CreateTempSubdirectory("onboarding-rec-").FullName, "l.xml");
        await File.WriteAllTextAsync(record, DeviceRecordXml.Devices(DeviceRecordXml.Device("JN-LINK-0001", setup.Profile.Name, device)));
        Assert.Equal(0, (await SftpBatchAsync(setup, $"put {record} /incoming/l.xml\n")).ExitCode);

        // A leading '-' lets the batch go on after a failure, so each refusal is printed.
        var result = await SftpBatchAsync(setup,
            "-ln /processed/l.xml.result /incoming/hard\n-ln -s /etc/passwd /incoming/soft\n-rm /processed/l.xml.result\n-rename /processed/l.xml.result /incoming/x\n-mkdir /incoming/dir\n");

        foreach (var expected in new[] { "does not support hardlink", "symlink file \"/etc/passwd\" to \"/incoming/soft\": Permission denied", "delete /processed/l.xml.result: Permission denied", "rename \"/processed/l.xml.result\" to \"/incoming/x\": Permission denied", "mkdir \"/incoming/dir\": Permission denied" })
            Assert.True(result.Stderr.Contains(expected, StringComparison.Ordinal), $"'{expected}' not in:\n{result.Stderr}");
    }

    [Fact]
    public async Task OpenSSH_sftp_with_a_wrong_passphrase_is_refused()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Sftp Wrong Telecom");
        var result = await SftpBatchAsync(setup, "ls /\n", passphrase: "not-the-passphrase");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("Permission denied", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenSSH_scp_upload_uses_sftp_and_is_bookkept()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Scp Telecom");
        using var device = setup.Ca.IssueDevice("JN-SCP-0001");
        var record = Path.Combine(Directory.CreateTempSubdirectory("onboarding-rec-").FullName, "scp.xml");
        await File.WriteAllTextAsync(record, DeviceRecordXml.Devices(DeviceRecordXml.Device("JN-SCP-0001", setup.Profile.Name, device)));
        var port = factory.SftpPort;

        var result = await ExternalTool.RunAsync("sshpass", ["-e", "scp", "-s", .. SshOptions(setup.WriteKnownHosts(port)),
            "-P", port.ToString(CultureInfo.InvariantCulture), record, $"{setup.Credentials.Username}@127.0.0.1:/incoming/scp.xml"],
            environment: new Dictionary<string, string> { ["SSHPASS"] = setup.Credentials.Passphrase });

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal(DeviceState.Bookkept, (await setup.Customer.GetFromJsonAsync<DeviceDetails>("/api/devices/JN-SCP-0001"))!.State);
    }

    [Fact]
    public async Task Paramiko_sftp_client_uploads_and_lists()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Paramiko Telecom");
        using var device = setup.Ca.IssueDevice("JN-PMK-0001");
        var xml = DeviceRecordXml.Devices(DeviceRecordXml.Device("JN-PMK-0001", setup.Profile.Name, device));
        const string script = """
            import io, sys, paramiko
            port, user, password, known_hosts = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
            client = paramiko.SSHClient()
            client.load_host_keys(known_hosts)
            client.set_missing_host_key_policy(paramiko.RejectPolicy())
            client.connect("127.0.0.1", port=port, username=user, password=password, look_for_keys=False, allow_agent=False)
            sftp = client.open_sftp()
            sftp.putfo(io.BytesIO(sys.stdin.buffer.read()), "/incoming/paramiko.xml", confirm=False)
            print(sorted(sftp.listdir("/")))
            print(sftp.open("/processed/paramiko.xml.result").read().decode())
            client.close()
            """;
        var port = factory.SftpPort;
        var result = await ExternalTool.RunAsync("/usr/bin/python3", ["-c", script, port.ToString(CultureInfo.InvariantCulture),
            setup.Credentials.Username, setup.Credentials.Passphrase, setup.WriteKnownHosts(port)], stdin: xml);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("['incoming', 'processed', 'rejected']", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("outcome: ACCEPTED", result.Stdout, StringComparison.Ordinal);
        Assert.Equal(DeviceState.Bookkept, (await setup.Customer.GetFromJsonAsync<DeviceDetails>("/api/devices/JN-PMK-0001"))!.State);
    }

    [Fact]
    public async Task Paramiko_default_put_confirms_the_upload_by_its_size()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Paramiko Put Telecom");
        using var device = setup.Ca.IssueDevice("JN-PMK-0002");
        var record = Path.Combine(Directory.CreateTempSubdirectory("onboarding-rec-").FullName, "put.xml");
        await File.WriteAllTextAsync(record, DeviceRecordXml.Devices(DeviceRecordXml.Device("JN-PMK-0002", setup.Profile.Name, device)));
        // put() with its defaults: confirm=True STATs the remote file after CLOSE and fails unless the size matches.
        const string script = """
            import stat, sys, paramiko
            port, user, password, known_hosts, local = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
            client = paramiko.SSHClient()
            client.load_host_keys(known_hosts)
            client.set_missing_host_key_policy(paramiko.RejectPolicy())
            client.connect("127.0.0.1", port=port, username=user, password=password, look_for_keys=False, allow_agent=False)
            sftp = client.open_sftp()
            attributes = sftp.put(local, "/incoming/put.xml")
            print("size", attributes.st_size, "regular", stat.S_ISREG(attributes.st_mode))
            print("incoming", [(a.filename, a.st_size) for a in sftp.listdir_attr("/incoming")])
            client.close()
            """;
        var port = factory.SftpPort;
        var result = await ExternalTool.RunAsync("/usr/bin/python3", ["-c", script, port.ToString(CultureInfo.InvariantCulture),
            setup.Credentials.Username, setup.Credentials.Passphrase, setup.WriteKnownHosts(port), record]);

        Assert.True(result.ExitCode == 0, result.Stderr);
        var size = new FileInfo(record).Length;
        Assert.Contains($"size {size} regular True", result.Stdout, StringComparison.Ordinal);
        Assert.Contains($"incoming [('put.xml', {size})]", result.Stdout, StringComparison.Ordinal);
        Assert.Equal(DeviceState.Bookkept, (await setup.Customer.GetFromJsonAsync<DeviceDetails>("/api/devices/JN-PMK-0002"))!.State);
    }

    [Fact]
    public async Task OpenSSH_sftp_lists_a_just_uploaded_file_in_incoming()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Sftp Ls Telecom");
        using var device = setup.Ca.IssueDevice("JN-SFTP-0003");
        var record = Path.Combine(Directory.CreateTempSubdirectory("onboarding-rec-").FullName, "listed.xml");
        await File.WriteAllTextAsync(record, DeviceRecordXml.Devices(DeviceRecordXml.Device("JN-SFTP-0003", setup.Profile.Name, device)));

        var result = await SftpBatchAsync(setup, $"put {record} /incoming/listed.xml\nls -l /incoming\n");

        Assert.True(result.ExitCode == 0, result.Stderr + result.Stdout);
        var line = Assert.Single(result.Stdout.Split('\n'), l => l.EndsWith(" listed.xml", StringComparison.Ordinal)); // not the echoed put, which ends in "/listed.xml"
        Assert.StartsWith("--w-------", line, StringComparison.Ordinal);
        Assert.Contains($" {new FileInfo(record).Length} ", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_nms_host_key_offered_is_the_one_customers_were_given()
    {
        // OpenSSH with StrictHostKeyChecking=yes and a known_hosts holding only the advertised keys must connect,
        // and must refuse when known_hosts holds a different key.
        var setup = await ManufacturerSetup.CreateAsync(factory, "Pinning Telecom");
        var port = factory.SftpPort;
        var wrongKnownHosts = Path.Combine(Directory.CreateTempSubdirectory("onboarding-kh-").FullName, "known_hosts");
        using var other = Onboarding.Ssh.Keys.SshHostKey.GenerateEd25519();
        await File.WriteAllTextAsync(wrongKnownHosts, $"[127.0.0.1]:{port} {other.PublicKey.ToAuthorizedKeysLine()}\n");
        var batch = Path.Combine(Directory.CreateTempSubdirectory("onboarding-b-").FullName, "b");
        await File.WriteAllTextAsync(batch, "ls /\n");

        var refused = await ExternalTool.RunAsync("sshpass", ["-e", "sftp", .. SshOptions(wrongKnownHosts), "-o", "HostKeyAlgorithms=ssh-ed25519",
            "-P", port.ToString(CultureInfo.InvariantCulture), "-b", batch, $"{setup.Credentials.Username}@127.0.0.1"],
            environment: new Dictionary<string, string> { ["SSHPASS"] = setup.Credentials.Passphrase });
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("HOST IDENTIFICATION HAS CHANGED", refused.Stderr, StringComparison.Ordinal);

        var accepted = await SftpBatchAsync(setup, "ls /\n");
        Assert.True(accepted.ExitCode == 0, accepted.Stderr);
        Assert.Contains("incoming", accepted.Stdout, StringComparison.Ordinal);
    }
}
