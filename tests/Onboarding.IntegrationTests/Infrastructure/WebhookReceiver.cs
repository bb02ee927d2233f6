using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Onboarding.IntegrationTests.Infrastructure;

/// <summary>
/// A customer's webhook receiver: a real Kestrel server on a loopback port that keeps every request and answers with
/// the status a script picks (by how many times it has seen that delivery id before).
/// </summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedWebhook> _received = new();

    private WebhookReceiver(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}/hooks/onboarding";

    public IReadOnlyList<ReceivedWebhook> Received => [.. _received];

    /// <param name="respond">The status for a request, given the request and how many earlier requests carried its delivery id.</param>
    /// <param name="port">0 for a free port, or the port a stopped receiver had (it comes back where the webhook points).</param>
    public static async Task<WebhookReceiver> StartAsync(Func<ReceivedWebhook, int, int> respond, int port = 0)
    {
        port = port == 0 ? FreePort() : port;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        WebhookReceiver? receiver = null;
        app.MapPost("/hooks/onboarding", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            var received = new ReceivedWebhook(
                request.Headers["X-Onboarding-Delivery"].ToString(),
                request.Headers["X-Onboarding-Timestamp"].ToString(),
                request.Headers["X-Onboarding-Signature"].ToString(),
                request.ContentType ?? "",
                body.ToArray());
            var earlier = receiver!._received.Count(r => r.DeliveryId == received.DeliveryId);
            receiver._received.Enqueue(received);
            return Results.StatusCode(respond(received, earlier));
        });
        receiver = new WebhookReceiver(app, port);
        await app.StartAsync();
        return receiver;
    }

    public int Count(string deliveryId) => _received.Count(r => r.DeliveryId == deliveryId);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>One request as the receiver saw it.</summary>
internal sealed record ReceivedWebhook(string DeliveryId, string Timestamp, string Signature, string ContentType, byte[] Body)
{
    public string Text => Encoding.UTF8.GetString(Body);

    /// <summary>What a customer does: recompute HMAC-SHA256 over "&lt;timestamp&gt;.&lt;body&gt;" with the secret and compare in constant time.</summary>
    public bool SignatureIsValid(string secret)
    {
        byte[] signed = [.. Encoding.UTF8.GetBytes(Timestamp + "."), .. Body];
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(Signature));
    }
}
