using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Onboarding.Accounts.Api;
using Onboarding.Accounts.Contracts;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.Inventory.Api;

namespace Onboarding.IntegrationTests;

public class DeviceTrustTests(OnboardingFactory factory) : IClassFixture<OnboardingFactory>
{
    [Fact]
    public async Task Registering_a_factory_ca_is_shown_on_the_manufacturer()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Trust Telecom");
        var view = (await setup.Customer.GetFromJsonAsync<ManufacturerView>($"/api/manufacturers/{setup.Credentials.ManufacturerId}"))!;
        var ca = Assert.Single(view.DeviceTrust.CaCertificates);
        Assert.Equal(setup.Ca.Certificate.Subject, ca.Subject);
        Assert.Equal(setup.Ca.Certificate.GetCertHashString(HashAlgorithmName.SHA256), ca.Sha256Fingerprint);
        Assert.Equal(SerialExtraction.SubjectSerialNumber, view.DeviceTrust.SerialExtraction);
    }

    [Fact]
    public async Task A_leaf_certificate_or_garbage_is_not_accepted_as_a_ca()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Leaf Telecom", registerCa: false);
        using var leaf = setup.Ca.IssueDevice("SN-LEAF");
        var url = $"/api/manufacturers/{setup.Credentials.ManufacturerId}/ca";
        var problem = await Problem.AssertValidationAsync(await setup.Customer.PutAsJsonAsync(url, new { certificatesPem = leaf.ExportCertificatePem() }), "certificatesPem");
        Assert.Contains("not a CA certificate", problem.ToString(), StringComparison.Ordinal);
        await Problem.AssertValidationAsync(await setup.Customer.PutAsJsonAsync(url, new { certificatesPem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----" }), "certificatesPem");
        await Problem.AssertValidationAsync(await setup.Customer.PutAsJsonAsync(url, new { certificatesPem = "" }), "certificatesPem");
    }

    [Fact]
    public async Task Serial_can_be_taken_from_the_common_name_when_the_manufacturer_puts_it_there()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "Cn Telecom");
        (await setup.Customer.PutAsJsonAsync($"/api/manufacturers/{setup.Credentials.ManufacturerId}/ca",
            new { certificatesPem = setup.Ca.Pem, serialExtraction = "SubjectCommonName" })).EnsureSuccessStatusCode();

        using var deviceKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=CN-SERIAL-7, O=Acme", deviceKey, HashAlgorithmName.SHA256);
        using var device = request.Create(setup.Ca.Certificate, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(1), [1, 2, 3, 4]);
        await using var drop = await setup.ConnectAsync(factory);
        await drop.UploadAsync("cn.xml", DeviceRecordXml.Devices(DeviceRecordXml.Device("CN-SERIAL-7", setup.Profile.Name, device)));

        Assert.Equal("CN-SERIAL-7", (await setup.Customer.GetFromJsonAsync<DeviceDetails>("/api/devices/CN-SERIAL-7"))!.SerialNumber);
    }

    [Fact]
    public async Task Without_a_registered_ca_the_chain_is_not_checked_but_the_serial_still_is()
    {
        var setup = await ManufacturerSetup.CreateAsync(factory, "No Ca Telecom", registerCa: false);
        using var foreign = new FactoryCa("Unregistered CA");
        using var device = foreign.IssueDevice("SN-NOCA");
        using var mismatched = foreign.IssueDevice("SN-NOCA-2", subjectSerial: "SN-WRONG");
        await using var drop = await setup.ConnectAsync(factory);

        await drop.UploadAsync("ok.xml", DeviceRecordXml.Devices(DeviceRecordXml.Device("SN-NOCA", setup.Profile.Name, device)));
        await Assert.ThrowsAsync<Onboarding.Sftp.SftpStatusException>(() =>
            drop.UploadAsync("bad.xml", DeviceRecordXml.Devices(DeviceRecordXml.Device("SN-NOCA-2", setup.Profile.Name, mismatched))));
    }
}
