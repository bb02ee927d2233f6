using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Onboarding.DeviceSim.Demo;

/// <summary>A step of the demo's set-up the host refused: which step, and the host's answer (a ProblemDetails, usually).</summary>
internal sealed class DemoSetupException(string message) : Exception(message);

/// <summary>What the set-up left for the devices and the report: both parties' keys, where the devices start, the webhook secret.</summary>
internal sealed record DemoAccounts(string CustomerKey, Guid ManufacturerId, string ManufacturerKey, Uri RedirectUrl, string RedirectTrustAnchorPem,
    string WebhookSecret, string DeviceType);

/// <summary>
/// Everything the README walk does before the devices power on, through the host's REST API: the customer signs up and
/// registers the manufacturer with its factory CA, takes the hand-off bundle to the manufacturer, who signs up at the
/// redirect server, registers the device type, imports the bundle and orders the devices; the customer sets a
/// pre-configuration template and its webhook.
/// </summary>
internal sealed class DemoSetup(HttpClient api)
{
    /// <summary>Waits until the host answers /health/live (it may still be migrating).</summary>
    public async Task WaitForHostAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var response = await api.GetAsync("/health/live", cancellationToken);
                if (response.IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException) when (DateTimeOffset.UtcNow < deadline)
            {
                // Not listening yet.
            }
            catch (HttpRequestException e)
            {
                throw new DemoSetupException($"the host at {api.BaseAddress} does not answer: {e.Message}");
            }
            if (DateTimeOffset.UtcNow >= deadline)
                throw new DemoSetupException($"the host at {api.BaseAddress} did not become live within {timeout.TotalSeconds:0} s");
            await Task.Delay(500, cancellationToken);
        }
    }

    public async Task<DemoAccounts> RunAsync(string runId, string factoryCaPem, IEnumerable<string> serials, Uri webhook, CancellationToken cancellationToken)
    {
        var customer = await SendAsync("customer sign-up", HttpMethod.Post, "/api/customers", null,
            new JsonObject { ["name"] = $"Demo Telecom {runId}", ["contactEmail"] = "noc@demo-telecom.example" }, cancellationToken);
        var customerKey = Customer(customer["apiKey"]);
        var manufacturer = await SendAsync("register the manufacturer", HttpMethod.Post, "/api/manufacturers", customerKey,
            new JsonObject { ["name"] = $"Demo Networks {runId}", ["serverDnsName"] = "ztp.demo-networks.example" }, cancellationToken);
        var manufacturerId = Guid.Parse(Text(manufacturer["manufacturerId"]));
        await SendAsync("register the factory CA", HttpMethod.Put, $"/api/manufacturers/{manufacturerId}/ca", customerKey,
            new JsonObject { ["certificatesPem"] = factoryCaPem }, cancellationToken);
        var bundle = await SendAsync("the hand-off bundle", HttpMethod.Post, $"/api/manufacturers/{manufacturerId}/sftp-passphrase", customerKey, null, cancellationToken);

        var signUp = await SendAsync("manufacturer sign-up at the redirect server", HttpMethod.Post, "/api/redirect/manufacturers", null,
            new JsonObject { ["name"] = $"Demo Networks {runId}", ["contactEmail"] = "factory@demo-networks.example" }, cancellationToken);
        var manufacturerKey = ("X-Manufacturer-Key", Text(signUp["apiKey"]));
        const string deviceType = "DemoRouter";
        var type = await SendAsync("register the device type", HttpMethod.Post, "/api/redirect/device-types", manufacturerKey,
            new JsonObject { ["name"] = deviceType, ["caPem"] = factoryCaPem, ["serial"] = new JsonObject { ["source"] = "SubjectSerialNumber" } }, cancellationToken);
        var profile = await SendAsync("import the hand-off bundle", HttpMethod.Post, "/api/redirect/nms-profiles", manufacturerKey, bundle, cancellationToken);
        var csv = new StringBuilder("serialNumber,nmsProfileId,deviceTypeId\n");
        foreach (var serial in serials)
            csv.Append(CultureInfo.InvariantCulture, $"{serial},{Text(profile["id"])},{Text(type["id"])}\n");
        await SendAsync("orders", HttpMethod.Post, "/api/redirect/orders/bulk", manufacturerKey, new StringContent(csv.ToString(), Encoding.UTF8, "text/csv"),
            cancellationToken);
        var server = await SendAsync("the redirect server's URL", HttpMethod.Get, "/api/redirect/bootstrap-server", manufacturerKey, null, cancellationToken);

        await SendAsync("the pre-configuration template", HttpMethod.Put, $"/api/preconfiguration/templates/{deviceType}", customerKey, new JsonObject
        {
            ["kind"] = "netconf",
            ["body"] = "<config><system xmlns=\"urn:ietf:params:xml:ns:yang:ietf-system\"><hostname>{{serial}}</hostname><contact>{{customer}}</contact></system></config>",
        }, cancellationToken);
        var hook = await SendAsync("the webhook", HttpMethod.Put, "/api/notifications/webhook", customerKey,
            new JsonObject { ["url"] = webhook.ToString() }, cancellationToken);

        return new DemoAccounts(customerKey.Item2, manufacturerId, manufacturerKey.Item2, new Uri(Text(server["url"]).TrimEnd('/') + "/"),
            Text(server["trustAnchorPem"]), Text(hook["secret"]), deviceType);
    }

    private static (string, string) Customer(JsonNode? key) => ("X-Api-Key", Text(key));

    private static string Text(JsonNode? node) => node?.GetValue<string>() ?? throw new DemoSetupException("the host's answer lacks a field the demo needs");

    /// <summary>Sends; a host that went away becomes a <see cref="DemoSetupException"/> naming the step.</summary>
    public static async Task<HttpResponseMessage> SendOrExplainAsync(HttpClient api, HttpRequestMessage request, string step, CancellationToken cancellationToken)
    {
        try
        {
            return await api.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new DemoSetupException($"{step}: {request.Method} {request.RequestUri} failed: {e.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new DemoSetupException($"{step}: {request.Method} {request.RequestUri} got no answer within {api.Timeout.TotalSeconds:0} s");
        }
    }

    private async Task<JsonNode> SendAsync(string step, HttpMethod method, string path, (string Header, string Value)? key, object? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        if (key is { } k)
            request.Headers.Add(k.Header, k.Value);
        request.Content = body switch
        {
            null => null,
            HttpContent content => content,
            JsonNode node => JsonContent.Create(node),
            _ => throw new ArgumentException("unsupported body", nameof(body)),
        };
        using var response = await SendOrExplainAsync(api, request, step, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw new DemoSetupException($"{step}: {method} {path} answered {(int)response.StatusCode}: {text}");
        try
        {
            return JsonNode.Parse(text.Length == 0 ? "{}" : text) ?? new JsonObject();
        }
        catch (JsonException)
        {
            throw new DemoSetupException($"{step}: {method} {path} answered {(int)response.StatusCode} with something that is not JSON: {text}");
        }
    }
}
