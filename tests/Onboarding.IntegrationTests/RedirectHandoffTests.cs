using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Onboarding.IntegrationTests.Infrastructure;

namespace Onboarding.IntegrationTests;

/// <summary>
/// The hand-off from the redirect server to the NMS over real SFTP (SSH.NET against our drop): the pinned host key,
/// the NMS going away and coming back (outbox-backed retries), batching of a burst, and idempotency.
/// </summary>
[Collection(RedirectAndNmsHosts.Name)]
public class RedirectHandoffTests(RedirectTwoHosts hosts)
{
    [Fact]
    public async Task NMS_host_key_changed_is_503_and_the_order_is_not_handed_off()
    {
        var bundle = hosts.Bundle.DeepClone().AsObject();
        var forged = "SHA256:" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=');
        bundle["sftp"]!["hostKeys"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject
        {
            ["algorithm"] = "ssh-ed25519",
            ["fingerprint"] = forged,
        });
        var profile = await hosts.ImportAsync(bundle);
        var orderId = await hosts.OrderAsync("RH-HOSTKEY-1", profile);

        var answer = await hosts.CurlAsync(hosts.Device("RH-HOSTKEY-1"));

        Assert.Equal(503, answer.Status);
        Assert.NotNull(answer.Header("Retry-After"));
        var error = RedirectBootstrapTests.RestconfError(answer);
        Assert.Equal("operation-failed", error.GetProperty("error-tag").GetString());
        Assert.Equal("nms-unavailable", error.GetProperty("error-app-tag").GetString());
        Assert.Equal("Authenticated", (await hosts.OrderStateAsync(orderId)).State);
        Assert.DoesNotContain("RH-HOSTKEY-1", await hosts.NmsDevicesAsync());
        Assert.Contains(hosts.Redirect.Logs.RenderedMessages, m => m.Contains("NMS host key changed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task NMS_down_then_up_is_503_with_Retry_After_then_the_outbox_delivers_and_the_retry_is_answered_at_once()
    {
        var orderId = await hosts.OrderAsync("RH-DOWN-1");
        var device = hosts.Device("RH-DOWN-1");
        hosts.Relay.Down();
        RedirectTwoHosts.CurlAnswer answer;
        try
        {
            answer = await hosts.CurlAsync(device);
            Assert.Equal(503, answer.Status);
            Assert.Equal("2", answer.Header("Retry-After"));
            Assert.Equal("nms-unavailable", RedirectBootstrapTests.RestconfError(answer).GetProperty("error-app-tag").GetString());
            Assert.Equal("Authenticated", (await hosts.OrderStateAsync(orderId)).State);
        }
        finally
        {
            hosts.Relay.Up();
        }

        // Nothing was lost: the outbox hands the record off once the NMS is back, without the device.
        await hosts.WaitForStateAsync(orderId, "HandedOff", TimeSpan.FromSeconds(30));
        Assert.Contains("RH-DOWN-1", await hosts.NmsDevicesAsync());

        var uploads = await hosts.NmsUploadCountAsync();
        var started = System.Diagnostics.Stopwatch.StartNew();
        answer = await hosts.CurlAsync(device);
        Assert.True(answer.Status == 200, answer.Text);
        Assert.Equal(uploads, await hosts.NmsUploadCountAsync()); // answered from the HandedOff order, no new upload
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"took {started.Elapsed}");
        Assert.Equal("Redirected", (await hosts.OrderStateAsync(orderId)).State);
    }

    [Fact]
    public async Task A_burst_of_50_devices_goes_to_the_NMS_in_far_fewer_files_and_every_device_is_bookkept()
    {
        var serials = Enumerable.Range(1, 50).Select(i => $"RH-BURST-{i:D3}").ToList();
        foreach (var serial in serials)
            await hosts.OrderAsync(serial);
        var devices = serials.Select(s => hosts.Device(s)).ToList();
        var uploadsBefore = await hosts.NmsUploadCountAsync();

        var answers = await Task.WhenAll(devices.Select(d => hosts.CurlRetryingAsync(d, TimeSpan.FromSeconds(60))));

        Assert.All(answers, a => Assert.True(a.Status == 200, a.Text));
        var files = await hosts.NmsUploadCountAsync() - uploadsBefore;
        Assert.True(files <= 10, $"{files} files for 50 devices");
        var bookkept = await hosts.NmsDevicesAsync();
        Assert.All(serials, s => Assert.Contains(s, bookkept));
    }

    [Fact]
    public async Task A_record_the_NMS_refuses_fails_alone_and_the_rest_of_its_batch_is_bookkept()
    {
        // The NMS reads the serial from subject serialNumber; this device type reads it from the CN, so a certificate
        // whose two differ passes here and is refused there.
        using var ca = new FactoryCa("Batch Split CA");
        var trust = await hosts.Setup.Customer.PutAsJsonAsync($"/api/manufacturers/{hosts.Setup.Credentials.ManufacturerId}/ca",
            new { certificatesPem = hosts.Setup.Ca.Pem + "\n" + ca.Pem });
        Assert.True(trust.IsSuccessStatusCode, await trust.Content.ReadAsStringAsync());
        var type = await hosts.CreateDeviceTypeAsync("SRX-" + Guid.NewGuid().ToString("N")[..6], ca.Pem, "SubjectCommonName", @"device (?<serial>\S+)");
        var good = new[] { "RH-SPLIT-1", "RH-SPLIT-2", "RH-SPLIT-3" };
        var orders = new List<Guid>();
        foreach (var serial in good.Append("RH-SPLIT-BAD"))
            orders.Add(await hosts.OrderAsync(serial, deviceTypeId: type));

        var answers = await Task.WhenAll(good.Select(s => hosts.CurlRetryingAsync(hosts.Device(s, ca), TimeSpan.FromSeconds(60)))
            .Append(hosts.CurlRetryingAsync(hosts.Device("RH-SPLIT-BAD", ca, subjectSerial: "SOMETHING-ELSE"), TimeSpan.FromSeconds(60))));

        Assert.All(answers.Take(3), a => Assert.True(a.Status == 200, a.Text + string.Join(" | ", hosts.OrderStateAsync(orders[0]).Result.Timeline)));
        Assert.Equal(503, answers[3].Status);
        Assert.Equal("nms-refused-record", RedirectBootstrapTests.RestconfError(answers[3]).GetProperty("error-app-tag").GetString());
        var (state, timeline) = await hosts.OrderStateAsync(orders[3]);
        Assert.Equal("Authenticated", state);
        Assert.Contains(timeline, t => t.Contains("the NMS refused the device record", StringComparison.Ordinal)
            && t.Contains("does not match serial-number", StringComparison.Ordinal));
        var bookkept = await hosts.NmsDevicesAsync();
        Assert.All(good, s => Assert.Contains(s, bookkept));
        Assert.DoesNotContain("RH-SPLIT-BAD", bookkept);
    }

    [Fact]
    public async Task Device_asking_twice_gets_the_same_answer_and_the_NMS_one_device()
    {
        var orderId = await hosts.OrderAsync("RH-TWICE-1");
        var device = hosts.Device("RH-TWICE-1");

        var first = await hosts.CurlAsync(device);
        var second = await hosts.CurlAsync(device);

        Assert.True(first.Status == 200, first.Text);
        Assert.True(second.Status == 200, second.Text);
        Assert.Equal(first.Body, second.Body);
        Assert.Single(await hosts.NmsDevicesAsync(), s => s == "RH-TWICE-1");
        var details = await hosts.Setup.Customer.GetFromJsonAsync<JsonElement>("/api/devices/RH-TWICE-1");
        Assert.Equal("RH-TWICE-1", details.GetProperty("serialNumber").GetString());
        var (state, timeline) = await hosts.OrderStateAsync(orderId);
        Assert.Equal("Redirected", state);
        Assert.Equal(2, timeline.Count(t => t.StartsWith("Redirected", StringComparison.Ordinal)));
    }

    [Fact]
    public void SSH_NET_offers_only_the_algorithms_of_DESIGN_md()
    {
        var info = new Renci.SshNet.ConnectionInfo("nms.example", 22, "user", new Renci.SshNet.PasswordAuthenticationMethod("user", "x"));
        Onboarding.Redirect.Handoff.NmsSftpConnection.Prune(info);

        Assert.Equal(["curve25519-sha256"], info.KeyExchangeAlgorithms.Keys.Where(k => !k.StartsWith("kex-strict", StringComparison.Ordinal)));
        Assert.Subset(new HashSet<string> { "ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521" },
            info.HostKeyAlgorithms.Keys.ToHashSet());
        Assert.Contains("ssh-ed25519", info.HostKeyAlgorithms.Keys);
        Assert.Subset(new HashSet<string> { "aes256-gcm@openssh.com", "aes128-gcm@openssh.com", "chacha20-poly1305@openssh.com", "aes256-ctr", "aes192-ctr", "aes128-ctr" },
            info.Encryptions.Keys.ToHashSet());
        Assert.Subset(new HashSet<string> { "hmac-sha2-512-etm@openssh.com", "hmac-sha2-256-etm@openssh.com" }, info.HmacAlgorithms.Keys.ToHashSet());
        Assert.NotEmpty(info.HmacAlgorithms);
        Assert.DoesNotContain(info.Encryptions.Keys, k => k.Contains("cbc", StringComparison.Ordinal));
        Assert.DoesNotContain("ssh-rsa", info.HostKeyAlgorithms.Keys);
        Assert.Equal(["none"], info.CompressionAlgorithms.Keys);
    }
}
