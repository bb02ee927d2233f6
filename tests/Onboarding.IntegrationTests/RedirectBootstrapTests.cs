using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.Sztp;

namespace Onboarding.IntegrationTests;

/// <summary>
/// The redirect server's device-facing RFC 8572 port across two real hosts: a device played by curl with its IDevID,
/// the answer decoded by Debian's openssl, the record bookkept at the NMS over SFTP; every refusal as the device sees it.
/// </summary>
[Collection(RedirectAndNmsHosts.Name)]
public class RedirectBootstrapTests(RedirectTwoHosts hosts)
{
    [Fact]
    public async Task Device_is_redirected_to_the_NMS_only_after_the_NMS_bookkept_its_record_JSON()
    {
        var orderId = await hosts.OrderAsync("RB-JSON-1");
        var device = hosts.Device("RB-JSON-1");

        var answer = await hosts.CurlAsync(device);

        Assert.True(answer.Status == 200, answer.Text);
        Assert.StartsWith("application/yang-data+json", answer.Header("Content-Type"), StringComparison.Ordinal);
        var output = JsonDocument.Parse(answer.Body).RootElement.GetProperty("ietf-sztp-bootstrap-server:output");
        var cms = Convert.FromBase64String(output.GetProperty("conveyed-information").GetString()!);
        var (oid, content) = await OpenSslCmsAsync(cms);
        Assert.Equal("1.2.840.113549.1.9.16.1.43", oid);
        var redirect = JsonDocument.Parse(content).RootElement.GetProperty("ietf-sztp-conveyed-info:redirect-information");
        var server = redirect.GetProperty("bootstrap-server")[0];
        var expected = new Uri(hosts.Bundle["bootstrapServer"]!["url"]!.GetValue<string>());
        Assert.Equal(expected.Host, server.GetProperty("address").GetString());
        Assert.Equal(expected.Port, server.GetProperty("port").GetInt32());
        Assert.Equal(hosts.Bundle["bootstrapServer"]!["trustAnchor"]!.GetValue<string>(), server.GetProperty("trust-anchor").GetString());
        var decoded = (RedirectInformation)ConveyedInformationCodec.Decode(content, SztpEncoding.Json);
        Assert.Equal(expected.Host, decoded.BootstrapServers[0].Address);

        Assert.Contains("RB-JSON-1", await hosts.NmsDevicesAsync());
        var (state, timeline) = await hosts.OrderStateAsync(orderId);
        Assert.Equal("Redirected", state);
        Assert.Equal(["Ordered", "Authenticated", "HandedOff", "Redirected"], timeline.Select(t => t.Split(':')[0]));
        Assert.Contains(timeline, t => t.StartsWith("Authenticated", StringComparison.Ordinal)
            && t.Contains(device.Certificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256), StringComparison.Ordinal)
            && t.Contains("127.0.0.1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Device_speaking_XML_gets_XML_conveyed_information()
    {
        await hosts.OrderAsync("RB-XML-1");
        var answer = await hosts.CurlAsync(hosts.Device("RB-XML-1"), xml: true);

        Assert.True(answer.Status == 200, answer.Text);
        var output = XDocument.Parse(answer.Text).Root!;
        Assert.Equal(XName.Get("output", BootstrapServerRpc.Namespace), output.Name);
        var cms = Convert.FromBase64String(output.Element(XName.Get("conveyed-information", BootstrapServerRpc.Namespace))!.Value);
        var (oid, content) = await OpenSslCmsAsync(cms);
        Assert.Equal("1.2.840.113549.1.9.16.1.42", oid);
        var ns = XNamespace.Get(ConveyedInformationCodec.Namespace);
        var redirect = XDocument.Parse(Encoding.UTF8.GetString(content)).Root!;
        Assert.Equal(ns + "redirect-information", redirect.Name);
        Assert.Equal(new Uri(hosts.Bundle["bootstrapServer"]!["url"]!.GetValue<string>()).Host,
            redirect.Element(ns + "bootstrap-server")!.Element(ns + "address")!.Value);
        Assert.Contains("RB-XML-1", await hosts.NmsDevicesAsync());
    }

    [Fact]
    public async Task Report_progress_goes_into_the_order_timeline()
    {
        var orderId = await hosts.OrderAsync("RB-PROGRESS-1");
        var device = hosts.Device("RB-PROGRESS-1");
        Assert.Equal(200, (await hosts.CurlAsync(device)).Status);

        var report = await hosts.CurlAsync(device, "report-progress",
            body: "{\"ietf-sztp-bootstrap-server:input\":{\"progress-type\":\"bootstrap-initiated\",\"message\":\"found the NMS\"}}");

        Assert.Equal(204, report.Status);
        var (state, timeline) = await hosts.OrderStateAsync(orderId);
        Assert.Equal("Redirected", state);
        Assert.Contains("Redirected: progress bootstrap-initiated: found the NMS", timeline);
    }

    [Fact]
    public async Task Certificate_from_another_CA_is_401_and_changes_nothing()
    {
        var orderId = await hosts.OrderAsync("RB-WRONGCA-1");
        using var rogue = new FactoryCa("Rogue Factory CA");

        var answer = await hosts.CurlAsync(hosts.Device("RB-WRONGCA-1", rogue));

        Assert.Equal(401, answer.Status);
        var error = RestconfError(answer);
        Assert.Equal("access-denied", error.GetProperty("error-tag").GetString());
        Assert.Equal("untrusted-certificate", error.GetProperty("error-app-tag").GetString());
        Assert.Equal("Ordered", (await hosts.OrderStateAsync(orderId)).State);
        Assert.DoesNotContain("RB-WRONGCA-1", await hosts.NmsDevicesAsync());
    }

    [Fact]
    public async Task Unknown_serial_is_404()
    {
        var answer = await hosts.CurlAsync(hosts.Device("RB-NOORDER-1"));

        Assert.Equal(404, answer.Status);
        var error = RestconfError(answer);
        Assert.Equal("data-missing", error.GetProperty("error-tag").GetString());
        Assert.Equal("unknown-serial", error.GetProperty("error-app-tag").GetString());
        Assert.DoesNotContain("RB-NOORDER-1", await hosts.NmsDevicesAsync());
    }

    [Fact]
    public async Task Cancelled_order_is_403_and_stays_cancelled()
    {
        var orderId = await hosts.OrderAsync("RB-CANCEL-1");
        Assert.Equal(HttpStatusCode.OK, (await hosts.Manufacturer.PostAsync($"/api/redirect/orders/{orderId}/cancel", null)).StatusCode);

        var answer = await hosts.CurlAsync(hosts.Device("RB-CANCEL-1"));

        Assert.Equal(403, answer.Status);
        var error = RestconfError(answer);
        Assert.Equal("access-denied", error.GetProperty("error-tag").GetString());
        Assert.Equal("order-cancelled", error.GetProperty("error-app-tag").GetString());
        Assert.Equal("Cancelled", (await hosts.OrderStateAsync(orderId)).State);
        Assert.DoesNotContain("RB-CANCEL-1", await hosts.NmsDevicesAsync());
    }

    [Fact]
    public async Task Order_bound_to_another_device_type_is_403()
    {
        using var otherCa = new FactoryCa("Other Line CA");
        var otherType = await hosts.CreateDeviceTypeAsync("EX4400-" + Guid.NewGuid().ToString("N")[..6], otherCa.Pem, "SubjectSerialNumber");
        var orderId = await hosts.OrderAsync("RB-TYPE-1", deviceTypeId: otherType);

        var answer = await hosts.CurlAsync(hosts.Device("RB-TYPE-1"));

        Assert.Equal(403, answer.Status);
        Assert.Equal("wrong-device-type", RestconfError(answer).GetProperty("error-app-tag").GetString());
        Assert.Equal("Ordered", (await hosts.OrderStateAsync(orderId)).State);
    }

    [Fact]
    public async Task Bootstrap_server_endpoint_gives_the_url_and_the_anchor_curl_verifies_with()
    {
        var server = await hosts.Manufacturer.GetFromJsonAsync<JsonElement>("/api/redirect/bootstrap-server");
        Assert.StartsWith("https://localhost:", server.GetProperty("url").GetString(), StringComparison.Ordinal);
        var anchors = SztpCms.DecodeCertificatesOnly(Convert.FromBase64String(server.GetProperty("trustAnchorCms").GetString()!));
        Assert.Equal(server.GetProperty("trustAnchorPem").GetString()!.Trim(), anchors[0].ExportCertificatePem().Trim());

        // Without the anchor, curl refuses the server: the TLS certificate is not from a public CA.
        var device = hosts.Device("RB-ANCHOR-1");
        var untrusted = await ExternalTool.RunAsync("curl", ["-sS", "--cert", device.CertFile, "--key", device.KeyFile,
            "-H", "Content-Type: application/yang-data+json", "--data-binary", "{}", $"{hosts.BootstrapUrl}/restconf/operations/ietf-sztp-bootstrap-server:get-bootstrapping-data"]);
        Assert.NotEqual(0, untrusted.ExitCode);

        using var anonymous = hosts.Redirect.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/redirect/bootstrap-server")).StatusCode);
    }

    [Fact]
    public async Task Preview_tells_what_a_device_would_get_without_side_effects()
    {
        var orderId = await hosts.OrderAsync("RB-PREVIEW-1");
        var device = hosts.Device("RB-PREVIEW-1");

        var bySerial = await PreviewAsync(hosts.Manufacturer, new { serialNumber = "RB-PREVIEW-1" });
        Assert.Equal("redirect", bySerial.GetProperty("outcome").GetString());
        Assert.Equal(200, bySerial.GetProperty("status").GetInt32());
        Assert.Equal(hosts.ProfileId, bySerial.GetProperty("nmsProfile").GetProperty("id").GetGuid());
        Assert.Equal(hosts.Bundle["bootstrapServer"]!["url"]!.GetValue<string>(), bySerial.GetProperty("redirect").GetProperty("bootstrapUrl").GetString());
        Assert.Equal("pending", bySerial.GetProperty("handOff").GetString());

        var byCertificate = await PreviewAsync(hosts.Manufacturer, new { certificatePem = device.Certificate.ExportCertificatePem() });
        Assert.Equal("redirect", byCertificate.GetProperty("outcome").GetString());
        Assert.Equal(hosts.DeviceTypeId, byCertificate.GetProperty("deviceType").GetProperty("id").GetGuid());
        Assert.Equal(orderId, byCertificate.GetProperty("order").GetProperty("id").GetGuid());

        using var rogue = new FactoryCa("Preview Rogue CA");
        var untrusted = await PreviewAsync(hosts.Manufacturer, new { certificatePem = rogue.IssueDevice("RB-PREVIEW-1").ExportCertificatePem() });
        Assert.Equal("refused", untrusted.GetProperty("outcome").GetString());
        Assert.Equal(401, untrusted.GetProperty("status").GetInt32());

        var unknown = await PreviewAsync(hosts.Manufacturer, new { serialNumber = "RB-PREVIEW-NONE" });
        Assert.Equal(404, unknown.GetProperty("status").GetInt32());
        Assert.Equal("unknown-serial", unknown.GetProperty("errorAppTag").GetString());

        // Nothing happened: the order is still Ordered and the NMS knows nothing.
        Assert.Equal("Ordered", (await hosts.OrderStateAsync(orderId)).State);
        Assert.DoesNotContain("RB-PREVIEW-1", await hosts.NmsDevicesAsync());

        await Problem.AssertValidationAsync(await hosts.Manufacturer.PostAsJsonAsync("/api/redirect/bootstrap-preview", new { }), "serialNumber");
        await Problem.AssertValidationAsync(await hosts.Manufacturer.PostAsJsonAsync("/api/redirect/bootstrap-preview",
            new { certificatePem = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----" }), "certificatePem");
    }

    [Fact]
    public async Task Preview_keeps_manufacturers_apart()
    {
        await hosts.OrderAsync("RB-TENANT-1");
        var device = hosts.Device("RB-TENANT-1");
        var (other, _, _) = await hosts.Redirect.SignUpManufacturerAsync("Other Vendor");

        var bySerial = await PreviewAsync(other, new { serialNumber = "RB-TENANT-1" });
        Assert.Equal(404, bySerial.GetProperty("status").GetInt32());
        Assert.Equal("unknown-serial", bySerial.GetProperty("errorAppTag").GetString());
        Assert.False(bySerial.TryGetProperty("order", out var order) && order.ValueKind != JsonValueKind.Null);

        // Its certificate chains to none of the other manufacturer's device types.
        var byCertificate = await PreviewAsync(other, new { certificatePem = device.Certificate.ExportCertificatePem() });
        Assert.Equal(401, byCertificate.GetProperty("status").GetInt32());
    }

    private static async Task<JsonElement> PreviewAsync(HttpClient manufacturer, object request)
    {
        var response = await manufacturer.PostAsJsonAsync("/api/redirect/bootstrap-preview", request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    internal static JsonElement RestconfError(RedirectTwoHosts.CurlAnswer answer) =>
        JsonDocument.Parse(answer.Body).RootElement.GetProperty("ietf-restconf:errors").GetProperty("error")[0].Clone();

    /// <summary>Debian's <c>openssl cms -cmsout -print</c>: the content type OID and the content bytes it decoded.</summary>
    internal async Task<(string Oid, byte[] Content)> OpenSslCmsAsync(byte[] cms)
    {
        var file = hosts.Write("conveyed.der", cms);
        var printed = await ExternalTool.RunAsync("openssl", ["cms", "-cmsout", "-print", "-inform", "DER", "-in", file]);
        Assert.True(printed.ExitCode == 0, printed.Stderr);
        var oid = System.Text.RegularExpressions.Regex.Match(printed.Stdout, @"contentType: .*?\(?(\d+(?:\.\d+)+)\)?\s*$",
            System.Text.RegularExpressions.RegexOptions.Multiline).Groups[1].Value;
        var content = new List<byte>();
        foreach (var line in printed.Stdout.Split('\n'))
        {
            var match = System.Text.RegularExpressions.Regex.Match(line, @"^\s+[0-9a-f]{4} - ((?:[0-9a-f]{2}[ -]){1,16})");
            if (!match.Success)
                continue;
            foreach (var hex in match.Groups[1].Value.Split([' ', '-'], StringSplitOptions.RemoveEmptyEntries))
                content.Add(byte.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        }

        return (oid, [.. content]);
    }
}

[CollectionDefinition(Name)]
public class RedirectAndNmsHosts : ICollectionFixture<RedirectTwoHosts>
{
    public const string Name = "Redirect server and NMS";
}
