using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Onboarding.DeviceSim.Bootstrap;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.Inventory.Api;
using DeviceState = Onboarding.Inventory.Contracts.DeviceState;
using Onboarding.NmsBootstrap.Api;
using Onboarding.Sztp;

namespace Onboarding.IntegrationTests;

/// <summary>
/// Issue 12 end to end, across two real hosts (an NMS and a redirect server that meet only over SFTP and through the
/// device): customer → hand-off bundle → manufacturer's order → device simulator → redirect → NMS bootstrap server →
/// progress reports → bootstrap-complete. Every party is asked what it saw: the order timelines at the redirect server,
/// the device timelines and pinned host keys at the NMS, and the simulator's own account of what it verified.
/// </summary>
public sealed class OnboardingFlowTests(OnboardingFlowHosts hosts) : IClassFixture<OnboardingFlowHosts>, IDisposable
{
    private const int Devices = 20;

    private readonly string _dir = Directory.CreateTempSubdirectory("onboarding-flow-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Twenty_devices_trusting_the_servers_over_TLS_are_redirected_and_complete_bootstrap_at_the_NMS()
    {
        var flow = await SetUpAsync("FLOWU", Devices);
        var settings = new BootstrapSettings([flow.RedirectUrl], flow.RedirectTrustAnchor, null, Signed: false, SztpEncoding.Json, TimeSpan.FromSeconds(90));

        var (outcomes, summary) = await BootstrapSimulation.RunAsync(flow.Identities, settings, Devices, null, CancellationToken.None);

        Assert.True(summary.Failed == 0, string.Join("; ", outcomes.Where(o => !o.Ok).Select(o => $"{o.Serial}: {o.Reason} {o.Detail}")));
        Assert.Equal(Devices, summary.Ok);
        foreach (var outcome in outcomes)
        {
            // Both answers unsigned, each accepted only because the server's TLS certificate chained to the anchor the
            // device had: the redirect server's from the "factory", the NMS's from the redirect-information.
            Assert.Equal(
                [
                    new AcceptedAnswer(flow.RedirectUrl, "redirect-information", TlsAuthenticated: true, Signed: false),
                    new AcceptedAnswer(flow.NmsBootstrapUrl, "onboarding-information", TlsAuthenticated: true, Signed: false),
                ],
                outcome.Accepted);
        }

        await AssertEveryPartySawTheFlowAsync(flow, outcomes);
    }

    [Fact]
    public async Task Twenty_devices_preferring_signed_data_verify_voucher_owner_and_signature_and_trust_no_TLS_at_the_redirect_server()
    {
        var flow = await SetUpAsync("FLOWS", Devices);
        using var anchor = await flow.Manufacturer.GetAsync("/api/redirect/manufacturers/me/voucher-trust-anchor");
        Assert.Equal(HttpStatusCode.OK, anchor.StatusCode);
        var voucherAnchors = new X509Certificate2Collection();
        voucherAnchors.ImportFromPem((await anchor.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("pem").GetString());
        // No TLS trust anchor for the first server: the device connects provisionally and accepts only signed data.
        var settings = new BootstrapSettings([flow.RedirectUrl], null, voucherAnchors, Signed: true, SztpEncoding.Json, TimeSpan.FromSeconds(90));

        var (outcomes, summary) = await BootstrapSimulation.RunAsync(flow.Identities, settings, Devices, null, CancellationToken.None);

        Assert.True(summary.Failed == 0, string.Join("; ", outcomes.Where(o => !o.Ok).Select(o => $"{o.Serial}: {o.Reason} {o.Detail}")));
        foreach (var outcome in outcomes)
        {
            Assert.Equal(
                [
                    new AcceptedAnswer(flow.RedirectUrl, "redirect-information", TlsAuthenticated: false, Signed: true),
                    // The NMS is trusted through the anchor in the NMS-signed redirect-information; it answers unsigned.
                    new AcceptedAnswer(flow.NmsBootstrapUrl, "onboarding-information", TlsAuthenticated: true, Signed: false),
                ],
                outcome.Accepted);
        }

        await AssertEveryPartySawTheFlowAsync(flow, outcomes);

        // The same devices without the manufacturer's voucher anchor refuse the signed redirect: the check above can fail.
        using var strangerKey = System.Security.Cryptography.ECDsa.Create();
        var stranger = new CertificateRequest("CN=Not the manufacturer", strangerKey, System.Security.Cryptography.HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var (refused, _) = await BootstrapSimulation.RunAsync(flow.Identities.Take(1).ToList(), settings with { VoucherTrustAnchors = [stranger] }, 1, null,
            CancellationToken.None);
        Assert.False(refused[0].Ok);
        Assert.Equal([flow.RedirectUrl], refused[0].Servers);
    }

    [Fact]
    public async Task A_device_whose_order_was_cancelled_gets_the_RFC_8572_error_and_nothing_reaches_the_NMS()
    {
        var flow = await SetUpAsync("FLOWX", 2);
        var (cancelledSerial, cancelledOrder) = flow.Orders.First();
        using (var cancel = await flow.Manufacturer.PostAsync($"/api/redirect/orders/{cancelledOrder}/cancel", null))
            Assert.True(cancel.IsSuccessStatusCode, await cancel.Content.ReadAsStringAsync());
        var uploadsBefore = await UploadsAsync(flow);
        var settings = new BootstrapSettings([flow.RedirectUrl], flow.RedirectTrustAnchor, null, Signed: false, SztpEncoding.Json, TimeSpan.FromSeconds(90));

        var (outcomes, summary) = await BootstrapSimulation.RunAsync(flow.Identities, settings, 2, null, CancellationToken.None);

        var refused = Assert.Single(outcomes, o => o.Serial == cancelledSerial);
        // RFC 8572 §7.2 / RFC 8040 §7: 403 with error-tag access-denied; the device went nowhere else.
        Assert.Equal("http-403 access-denied", refused.Reason);
        Assert.Contains("cancelled", refused.Detail, StringComparison.Ordinal);
        Assert.Equal([flow.RedirectUrl], refused.Servers);
        Assert.Empty(refused.Accepted);
        Assert.Equal(1, summary.Ok);

        // The order stays cancelled, never authenticated or handed off; the NMS has no record of the serial.
        var (state, timeline) = await OrderAsync(flow, cancelledOrder);
        Assert.Equal("Cancelled", state);
        Assert.DoesNotContain(timeline, e => e.State is "Authenticated" or "HandedOff" or "Redirected");
        using (var lookup = await flow.Customer.GetAsync($"/api/devices/{cancelledSerial}"))
            Assert.Equal(HttpStatusCode.NotFound, lookup.StatusCode);
        // Only the other device's record was uploaded, and it was bookkept.
        var other = flow.Orders.Single(o => o.Key != cancelledSerial).Key;
        Assert.Equal(uploadsBefore + 1, await UploadsAsync(flow));
        var device = await flow.Customer.GetFromJsonAsync<DeviceDetails>($"/api/devices/{other}");
        Assert.Equal(DeviceState.Bootstrapping, device!.State);
    }

    /// <summary>
    /// Issue 13 end to end: the rest of the flow after bootstrap-complete. The customer configures a netconf
    /// pre-configuration template for the device type and a webhook (a receiver here that checks the signature as a
    /// customer would); the simulator's <c>onboard</c> mode (the real command line, as a process) bootstraps every device
    /// and then calls home to the port the onboarding-information named (RFC 8071, or Junos outbound-ssh with its HMAC
    /// preamble when the manufacturer's call-home style says so), where the NMS writes the rendered template to the
    /// candidate, commits, verifies with get-config and records Onboarded, which notifies the owner once per device.
    /// </summary>
    [Theory]
    [InlineData("netconf", "FLOWN", 10)]
    [InlineData("junos", "FLOWJ", 2)]
    public async Task Devices_onboard_mode_bootstraps_calls_home_is_preconfigured_and_ends_Onboarded_with_the_owner_notified(string style, string prefix, int devices)
    {
        var flow = await SetUpAsync(prefix, devices);
        if (style == "junos")
        {
            using var set = await flow.Customer.PutAsJsonAsync($"/api/manufacturers/{flow.ManufacturerId}/call-home-style", new { callHomeStyle = "junos" });
            Assert.True(set.IsSuccessStatusCode, await set.Content.ReadAsStringAsync());
        }

        // The customer's pre-configuration for the device type (the model the redirect server recorded) and its webhook.
        const string Template = "<config><system xmlns=\"urn:ietf:params:xml:ns:yang:ietf-system\"><hostname>{{serial}}</hostname>"
            + "<contact>{{customer}}</contact></system></config>";
        using (var template = await flow.Customer.PutAsJsonAsync($"/api/preconfiguration/templates/MX204-{prefix}", new { kind = "netconf", body = Template }))
            Assert.True(template.StatusCode == HttpStatusCode.Created, await template.Content.ReadAsStringAsync());
        await using var receiver = await WebhookReceiver.StartAsync((_, _) => 200);
        var secret = (await NotificationRig.SetWebhookAsync(flow.Customer, receiver.Url)).Secret!;

        // Power on: the simulator's onboard mode, as an operator runs it (redirect → NMS bootstrap → call home).
        var factory = Path.Combine(_dir, prefix);
        var anchor = Path.Combine(_dir, prefix + "-redirect-ca.pem");
        await File.WriteAllTextAsync(anchor, flow.RedirectTrustAnchor[0].ExportCertificatePem());
        var results = Path.Combine(_dir, prefix + "-callhome.json");
        var run = await ExternalTool.RunAsync("dotnet",
            [Path.Combine(AppContext.BaseDirectory, "Onboarding.DeviceSim.dll"), "onboard", "-d", factory, "-c", devices.ToString(CultureInfo.InvariantCulture),
                "--url", flow.RedirectUrl.ToString().TrimEnd('/'), "--trust-anchor", anchor, "--json", results, "-v"],
            timeout: TimeSpan.FromMinutes(5));
        // Spectre.Console wraps long lines when the output is not a terminal: read it as one line of words.
        var output = System.Text.RegularExpressions.Regex.Replace(run.Stdout, "\\s+", " ");
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}\n{run.Stdout}\n{run.Stderr}");
        Assert.Contains($"{devices} devices in ", output, StringComparison.Ordinal);
        Assert.Contains($": {devices} reached the NMS, {devices} configured, 0 failed;", output, StringComparison.Ordinal);

        // The simulator's account: every device configured, its running datastore holding the rendered template.
        using var report = JsonDocument.Parse(await File.ReadAllBytesAsync(results));
        Assert.Equal(devices, report.RootElement.GetProperty("configured").GetInt32());
        var customerName = $"Flow Telecom {prefix}";
        var system = (System.Xml.Linq.XNamespace)"urn:ietf:params:xml:ns:yang:ietf-system";
        foreach (var result in report.RootElement.GetProperty("results").EnumerateArray())
        {
            var serial = result.GetProperty("serial").GetString()!;
            Assert.True(result.GetProperty("ok").GetBoolean(), result.ToString());
            var running = System.Xml.Linq.XElement.Parse(result.GetProperty("runningConfiguration").GetString()!);
            var configured = Assert.Single(running.Descendants(system + "system"));
            Assert.Equal((serial, customerName), (configured.Element(system + "hostname")?.Value, configured.Element(system + "contact")?.Value));
            // What the device kept from its onboarding-information: the call-home style the manufacturer was set to.
            var state = Onboarding.DeviceSim.CallHome.DeviceState.Load(Path.Combine(factory, "state"), serial)!;
            Assert.Equal(style == "junos" ? Onboarding.DeviceSim.CallHome.CallHomeStyle.Junos : Onboarding.DeviceSim.CallHome.CallHomeStyle.Netconf,
                state.CallHome!.Style);
            Assert.Equal(hosts.CallHomePort, state.CallHome.Port);
        }

        // The NMS: every device Onboarded, through every state of its lifecycle in order.
        var ids = new Dictionary<Guid, string>();
        foreach (var serial in flow.Orders.Keys)
        {
            var device = (await flow.Customer.GetFromJsonAsync<DeviceDetails>($"/api/devices/{serial}"))!;
            ids[device.Id.Value] = serial;
            var timeline = (await flow.Customer.GetFromJsonAsync<DeviceTimeline>($"/api/devices/{device.Id}/timeline"))!;
            var steps = string.Join(" | ", timeline.Steps.Select(s => $"{s.State}: {s.Detail}"));
            Assert.True(timeline.State == DeviceState.Onboarded, steps);
            Assert.Equal([DeviceState.Bookkept, DeviceState.Bootstrapping, DeviceState.CalledHome, DeviceState.Configured, DeviceState.Onboarded],
                timeline.Steps.Select(s => s.State).Distinct());
            Assert.Contains(timeline.Steps, s => s.State == DeviceState.Configured && s.Detail.StartsWith("netconf:", StringComparison.Ordinal));
            Assert.Contains(timeline.Steps, s => s.State == DeviceState.Onboarded && s.Detail.Contains("verified with get-config", StringComparison.Ordinal));
        }

        if (style == "junos")
        {
            // The NMS read the 5-line DEVICE-CONN-INFO preamble (HOST-KEY and its HMAC) from every device before SSH.
            var announced = hosts.Nms.Logs.Events
                .Where(e => e.MessageTemplate.Text.Contains("outbound-ssh preamble", StringComparison.Ordinal)
                    && e.RenderMessage().Contains("5 lines with HOST-KEY and HMAC", StringComparison.Ordinal))
                .Select(e => ((Serilog.Events.ScalarValue)e.Properties["AnnouncedDeviceId"]).Value as string);
            Assert.Equal(flow.Orders.Keys.Order(StringComparer.Ordinal), announced.Distinct().Order(StringComparer.Ordinal));
        }

        // The owner: one signed webhook per device, device.onboarded (the outbox delivers in the background).
        await NotificationRig.WaitForAsync(flow.Customer,
            items => items.Count(i => i.Status == Onboarding.Notifications.Contracts.DeliveryStatus.Delivered) == devices, "webhook deliveries");
        var received = receiver.Received;
        Assert.Equal(devices, received.Count);
        Assert.All(received, r => Assert.True(r.SignatureIsValid(secret), $"bad signature on {r.Text}"));
        var notified = received.Select(r => JsonSerializer.Deserialize<JsonElement>(r.Body)).ToList();
        Assert.All(notified, n => Assert.Equal("device.onboarded", n.GetProperty("event").GetString()));
        Assert.Equal(ids.Keys.Order(), notified.Select(n => n.GetProperty("device").GetProperty("id").GetGuid()).Order());
        Assert.All(notified, n => Assert.Equal(ids[n.GetProperty("device").GetProperty("id").GetGuid()], n.GetProperty("device").GetProperty("serialNumber").GetString()));
    }

    /// <summary>The order timelines at the redirect server, the device timelines and pinned keys at the NMS.</summary>
    private async Task AssertEveryPartySawTheFlowAsync(Flow flow, IReadOnlyList<DeviceOutcome> outcomes)
    {
        Assert.Equal(flow.Orders.Keys.Order(StringComparer.Ordinal), outcomes.Select(o => o.Serial).Order(StringComparer.Ordinal));
        foreach (var outcome in outcomes)
        {
            Assert.Equal([flow.RedirectUrl, flow.NmsBootstrapUrl], outcome.Servers);
            // onboarding-information from the NMS: its call-home configuration, merged.
            Assert.NotNull(outcome.Onboarding!.Configuration);
            Assert.Contains(hosts.BootstrapPort.ToString(CultureInfo.InvariantCulture), flow.NmsBootstrapUrl.Authority, StringComparison.Ordinal);

            var (state, timeline) = await OrderAsync(flow, flow.Orders[outcome.Serial]);
            Assert.Equal("Redirected", state);
            Assert.Equal(["Ordered", "Authenticated", "HandedOff", "Redirected"], timeline.Select(e => e.State).Distinct());
            Assert.Contains(timeline, e => e.State == "Redirected" && e.Detail!.Contains(flow.NmsBootstrapUrl.Authority, StringComparison.Ordinal));

            var device = (await flow.Customer.GetFromJsonAsync<DeviceDetails>($"/api/devices/{outcome.Serial}"))!;
            Assert.Equal(flow.ManufacturerId, device.ManufacturerId);
            var steps = (await flow.Customer.GetFromJsonAsync<DeviceTimeline>($"/api/devices/{device.Id}/timeline"))!;
            Assert.Equal(DeviceState.Bootstrapping, steps.State);
            Assert.Equal([DeviceState.Bookkept, DeviceState.Bootstrapping], steps.Steps.Select(s => s.State).Distinct());
            // RFC 8572 §7.3: every progress report the device sent, in order, ending with bootstrap-complete.
            Assert.Equal(
                ["bootstrap-initiated", "parsing-initiated", "parsing-complete", "config-initiated", "config-complete", "bootstrap-complete"],
                steps.Steps.Where(s => s.Detail.StartsWith("report-progress ", StringComparison.Ordinal))
                    .Select(s => s.Detail["report-progress ".Length..].Split(':')[0]));

            var pinned = (await flow.Customer.GetFromJsonAsync<DeviceHostKeys>($"/api/devices/{device.Id}/ssh-host-keys"))!;
            var key = Assert.Single(pinned.Keys);
            Assert.Equal(("ssh-ed25519", outcome.HostKey!.Fingerprint), (key.Algorithm, key.Fingerprint));
        }
    }

    private sealed record Flow(
        HttpClient Customer,
        Guid ManufacturerId,
        HttpClient Manufacturer,
        Guid ProfileId,
        IReadOnlyDictionary<string, Guid> Orders,
        IReadOnlyList<DeviceIdentity> Identities,
        Uri RedirectUrl,
        X509Certificate2Collection RedirectTrustAnchor,
        Uri NmsBootstrapUrl);

    /// <summary>Everything before the devices power on, through the two hosts' REST APIs, as the README walk does it.</summary>
    private async Task<Flow> SetUpAsync(string prefix, int devices)
    {
        // The factory: the simulator's own mint writes the factory CA and the devices' IDevIDs.
        var factory = Path.Combine(_dir, prefix);
        var serials = FactoryMint.Mint(factory, devices, DeviceKeyType.P256, prefix);
        var caPem = await File.ReadAllTextAsync(Path.Combine(factory, FactoryMint.CaFile));

        // 1. The customer signs up at its NMS, registers the manufacturer with that factory CA, and takes the bundle.
        var (customer, _) = await hosts.Nms.SignUpAsync($"Flow Telecom {prefix}");
        var registered = await customer.PostAsJsonAsync("/api/manufacturers", new { name = $"Acme {prefix}", serverDnsName = "redirect.acme.example" });
        Assert.True(registered.StatusCode == HttpStatusCode.Created, await registered.Content.ReadAsStringAsync());
        var manufacturerId = (await registered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("manufacturerId").GetGuid();
        using (var ca = await customer.PutAsJsonAsync($"/api/manufacturers/{manufacturerId}/ca", new { certificatesPem = caPem }))
            Assert.True(ca.IsSuccessStatusCode, await ca.Content.ReadAsStringAsync());
        using var bundle = await customer.PostAsync($"/api/manufacturers/{manufacturerId}/sftp-passphrase", null);
        Assert.Equal(HttpStatusCode.OK, bundle.StatusCode);
        var bundleJson = await bundle.Content.ReadAsStringAsync();

        // 2. The manufacturer signs up at its redirect server, registers the device type, imports the bundle as it is.
        var (manufacturer, _, _) = await hosts.Redirect.SignUpManufacturerAsync($"Acme {prefix}");
        var type = await manufacturer.PostAsJsonAsync("/api/redirect/device-types",
            new { name = $"MX204-{prefix}", caPem, serial = new { source = "SubjectSerialNumber" } });
        Assert.True(type.StatusCode == HttpStatusCode.Created, await type.Content.ReadAsStringAsync());
        var typeId = (await type.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        using var imported = await manufacturer.PostAsync("/api/redirect/nms-profiles", new StringContent(bundleJson, Encoding.UTF8, "application/json"));
        Assert.True(imported.StatusCode == HttpStatusCode.Created, await imported.Content.ReadAsStringAsync());
        var profileId = (await imported.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();

        // 3. The orders, in bulk (CSV).
        var csv = new StringBuilder("serialNumber,nmsProfileId,deviceTypeId\n");
        foreach (var serial in serials)
            csv.Append(CultureInfo.InvariantCulture, $"{serial},{profileId},{typeId}\n");
        using var bulk = await manufacturer.PostAsync("/api/redirect/orders/bulk", new StringContent(csv.ToString(), Encoding.UTF8, "text/csv"));
        Assert.True(bulk.StatusCode == HttpStatusCode.Created, await bulk.Content.ReadAsStringAsync());
        Assert.Equal(devices, (await bulk.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("created").GetInt32());
        var orders = await manufacturer.GetFromJsonAsync<JsonElement>($"/api/redirect/orders?nmsProfileId={profileId}&pageSize=500");
        var orderIds = orders.GetProperty("items").EnumerateArray()
            .ToDictionary(o => o.GetProperty("serialNumber").GetString()!, o => o.GetProperty("id").GetGuid());
        Assert.Equal(serials.Order(StringComparer.Ordinal), orderIds.Keys.Order(StringComparer.Ordinal));

        // What the factory puts on every device: the redirect server's URL and TLS trust anchor.
        var server = await manufacturer.GetFromJsonAsync<JsonElement>("/api/redirect/bootstrap-server");
        var anchor = new X509Certificate2Collection();
        anchor.ImportFromPem(server.GetProperty("trustAnchorPem").GetString());
        var nmsUrl = new Uri(JsonDocument.Parse(bundleJson).RootElement.GetProperty("bootstrapServer").GetProperty("url").GetString()!.TrimEnd('/') + "/");
        return new Flow(customer, manufacturerId, manufacturer, profileId, orderIds, DeviceIdentity.LoadDirectory(factory),
            new Uri(server.GetProperty("url").GetString()!.TrimEnd('/') + "/"), anchor, nmsUrl);
    }

    private static async Task<(string State, IReadOnlyList<(string State, string? Detail)> Timeline)> OrderAsync(Flow flow, Guid orderId)
    {
        var detail = await flow.Manufacturer.GetFromJsonAsync<JsonElement>($"/api/redirect/orders/{orderId}");
        return (detail.GetProperty("order").GetProperty("state").GetString()!,
            [.. detail.GetProperty("timeline").EnumerateArray().Select(e => (e.GetProperty("state").GetString()!, e.GetProperty("detail").GetString()))]);
    }

    private static async Task<int> UploadsAsync(Flow flow) =>
        (await flow.Customer.GetFromJsonAsync<JsonElement>($"/api/manufacturers/{flow.ManufacturerId}/uploads?pageSize=1")).GetProperty("total").GetInt32();
}
