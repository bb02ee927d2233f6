using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Onboarding.LoadTest;

/// <summary>
/// Owner notifications delivered per second by a running host: N test events (POST /api/notifications/test), each a
/// delivery with its own outbox message, claimed by the host's dispatcher and POSTed signed to a webhook receiver in
/// this process. Clocked from the first API call to the N-th distinct delivery received. Baseline, same run: the same
/// POSTs (same body size, the same three headers, HMAC computed per request) made straight to the receiver by an
/// HttpClient loop with the same concurrency. The host must run with Notifications__AllowHttpWebhooks=true and
/// Notifications__AllowPrivateNetworkWebhooks=true (the receiver is on loopback) and without an SMTP relay.
/// </summary>
internal static class NotificationsTest
{
    public static async Task<int> RunAsync(Uri url, int events, int concurrency, int timeoutSeconds, CancellationToken cancellationToken)
    {
        Report.Header($"notifications: {events} events, {concurrency} in flight, host {url}");
        await using var receiver = await Receiver.StartAsync();
        using var http = NmsTenant.CreateClient(url);
        var signUp = await (await http.PostAsJsonAsync("/api/customers",
            new { name = $"Notifications bench {Guid.NewGuid():N}", contactEmail = "bench@bench.example" }, cancellationToken)).EnsureSuccessStatusCode()
            .Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        http.DefaultRequestHeaders.Add("X-Api-Key", signUp.GetProperty("apiKey").GetString());
        var webhook = await (await http.PutAsJsonAsync("/api/notifications/webhook", new { url = receiver.Url }, cancellationToken)).EnsureSuccessStatusCode()
            .Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        var secret = webhook.GetProperty("secret").GetString()!;
        var timeout = TimeSpan.FromSeconds(timeoutSeconds);

        // Warm-up: one event end to end (JIT, connection pools, the dispatcher's first poll); its body is the baseline's.
        await SendTestEventsAsync(http, 1, 1, cancellationToken);
        await receiver.WaitForAsync(1, timeout, cancellationToken);
        var body = receiver.FirstBody!;
        receiver.Reset();

        var rows = new List<Measurement>();
        var clock = Stopwatch.StartNew();
        await SendTestEventsAsync(http, events, concurrency, cancellationToken);
        var accepted = clock.Elapsed;
        await receiver.WaitForAsync(events, timeout, cancellationToken);
        var delivered = clock.Elapsed;
        if (receiver.Duplicates > 0)
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "[yellow]{0} duplicate deliveries received[/]", receiver.Duplicates);
        rows.Add(new Measurement("owner events → webhook", "host: API + outbox + dispatcher", "HttpClient (POST /test)", events / delivered.TotalSeconds, "events/s",
            $"{events} delivered in {delivered.TotalSeconds:0.00} s; API accepted all in {accepted.TotalSeconds:0.00} s"));

        receiver.Reset();
        clock.Restart();
        await PostDirectAsync(receiver.Url, body, secret, events, concurrency, cancellationToken);
        await receiver.WaitForAsync(events, timeout, cancellationToken);
        var direct = clock.Elapsed;
        rows.Add(new Measurement("owner events → webhook", "none (direct)", "HttpClient loop, signed", events / direct.TotalSeconds, "events/s",
            $"{events} POSTs in {direct.TotalSeconds:0.00} s"));

        Report.Print("notifications", rows, r => r.Server.StartsWith("none", StringComparison.Ordinal),
            "what the outbox costs per notification (a transaction for the delivery, a claim, an attempt record) vs a bare POST");
        return 0;
    }

    private static async Task SendTestEventsAsync(HttpClient http, int count, int concurrency, CancellationToken cancellationToken)
    {
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken }, async (_, ct) =>
        {
            using var response = await http.PostAsync("/api/notifications/test", null, ct);
            if (!response.IsSuccessStatusCode)
                throw new InvalidOperationException($"POST /api/notifications/test: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
        });
    }

    private static async Task PostDirectAsync(string url, byte[] body, string secret, int count, int concurrency, CancellationToken cancellationToken)
    {
        using var http = new HttpClient();
        var key = Encoding.UTF8.GetBytes(secret);
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken }, async (_, ct) =>
        {
            var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
            byte[] signed = [.. Encoding.UTF8.GetBytes(timestamp + "."), .. body];
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new("application/json") { CharSet = "utf-8" };
            request.Headers.Add("X-Onboarding-Delivery", Guid.NewGuid().ToString("D"));
            request.Headers.Add("X-Onboarding-Timestamp", timestamp);
            request.Headers.Add("X-Onboarding-Signature", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(key, signed)));
            using var response = await http.SendAsync(request, ct);
            response.EnsureSuccessStatusCode();
        });
    }

    /// <summary>The customer's receiver: counts distinct delivery ids (and repeats), answers 204.</summary>
    private sealed class Receiver : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private ConcurrentDictionary<string, int> _seen = new();
        private int _duplicates;

        private Receiver(WebApplication app) => _app = app;

        public string Url { get; private set; } = "";

        public byte[]? FirstBody { get; private set; }

        public int Duplicates => _duplicates;

        public static async Task<Receiver> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var receiver = new Receiver(app);
            app.MapPost("/hooks/onboarding", async (HttpRequest request) =>
            {
                using var buffer = new MemoryStream();
                await request.Body.CopyToAsync(buffer);
                receiver.FirstBody ??= buffer.ToArray();
                if (receiver._seen.AddOrUpdate(request.Headers["X-Onboarding-Delivery"].ToString(), 1, (_, n) => n + 1) > 1)
                    Interlocked.Increment(ref receiver._duplicates);
                return Results.NoContent();
            });
            await app.StartAsync();
            receiver.Url = app.Urls.First() + "/hooks/onboarding";
            return receiver;
        }

        public void Reset()
        {
            _seen = new ConcurrentDictionary<string, int>();
            _duplicates = 0;
        }

        public async Task WaitForAsync(int distinct, TimeSpan timeout, CancellationToken cancellationToken)
        {
            var deadline = Stopwatch.StartNew();
            while (_seen.Count < distinct)
            {
                if (deadline.Elapsed > timeout)
                    throw new TimeoutException($"only {_seen.Count} of {distinct} notifications arrived within {timeout}");
                await Task.Delay(5, cancellationToken);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
