using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Onboarding.LoadTest;

/// <summary>
/// The owner's webhook receiver for the onboard run (Kestrel on a free loopback port, in this process): checks every
/// delivery's HMAC signature (README "Notifications": sha256 over "&lt;timestamp&gt;.&lt;body&gt;", keyed with the whole
/// secret), answers 204 to a valid one and 401 to anything else, and counts by device serial and by delivery id, so
/// the run can tell a second notification for one device (another delivery id) from a redelivery of the same one.
/// </summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _attempts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, byte>> _deliveriesByDevice = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _firstNotified = new(StringComparer.Ordinal);
    private byte[] _secret = [];
    private int _invalid;
    private int _otherEvents;

    private WebhookReceiver(WebApplication app) => _app = app;

    public int Port { get; private set; }

    /// <summary>The signing secret the NMS answered once at PUT /api/notifications/webhook.</summary>
    public string Secret
    {
        set => _secret = Encoding.UTF8.GetBytes(value);
    }

    /// <summary>Devices with at least one valid device.onboarded delivery.</summary>
    public int NotifiedDevices => _firstNotified.Count;

    /// <summary>Requests refused: bad or missing signature, or a body that does not match its delivery header.</summary>
    public int Invalid => Volatile.Read(ref _invalid);

    /// <summary>Valid deliveries of events other than device.onboarded (device.rejected, test).</summary>
    public int OtherEvents => Volatile.Read(ref _otherEvents);

    /// <summary>Valid requests in all (every attempt of every delivery).</summary>
    public int Requests => _attempts.Values.Sum();

    /// <summary>Delivery ids received again after we had answered 2xx to them (we never answer a valid one otherwise).</summary>
    public int RedeliveredAfter2xx => _attempts.Values.Sum(n => n - 1);

    /// <summary>Serials that got more than one distinct device.onboarded delivery id: two notifications for one device.</summary>
    public IReadOnlyList<string> DevicesNotifiedTwice => _deliveriesByDevice.Where(p => p.Value.Count > 1).Select(p => p.Key).ToList();

    public DateTimeOffset? FirstNotified(string serial) => _firstNotified.TryGetValue(serial, out var at) ? at : null;

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/hook", (Delegate)receiver.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.Port = new Uri(address).Port;
        return receiver;
    }

    private async Task<IResult> HandleAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var body = buffer.ToArray();
        var timestamp = context.Request.Headers["X-Onboarding-Timestamp"].ToString();
        var signature = context.Request.Headers["X-Onboarding-Signature"].ToString();
        var deliveryId = context.Request.Headers["X-Onboarding-Delivery"].ToString();
        var signed = Encoding.UTF8.GetBytes(timestamp + ".").Concat(body).ToArray();
        var expected = Encoding.ASCII.GetBytes("sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(_secret, signed)));
        if (timestamp.Length == 0 || deliveryId.Length == 0 || !CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(signature)))
        {
            Interlocked.Increment(ref _invalid);
            return Results.StatusCode(StatusCodes.Status401Unauthorized);
        }

        string? eventName, serial, bodyDeliveryId;
        try
        {
            using var json = JsonDocument.Parse(body);
            eventName = json.RootElement.GetProperty("event").GetString();
            bodyDeliveryId = json.RootElement.GetProperty("deliveryId").ToString();
            serial = json.RootElement.TryGetProperty("device", out var device) && device.ValueKind == JsonValueKind.Object
                ? device.GetProperty("serialNumber").GetString() : null;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            Interlocked.Increment(ref _invalid);
            return Results.StatusCode(StatusCodes.Status401Unauthorized);
        }
        if (!string.Equals(bodyDeliveryId, deliveryId, StringComparison.OrdinalIgnoreCase))
        {
            Interlocked.Increment(ref _invalid);
            return Results.StatusCode(StatusCodes.Status401Unauthorized);
        }

        _attempts.AddOrUpdate(deliveryId, 1, (_, n) => n + 1);
        if (eventName == "device.onboarded" && serial is not null)
        {
            _deliveriesByDevice.GetOrAdd(serial, _ => new ConcurrentDictionary<string, byte>(StringComparer.Ordinal)).TryAdd(deliveryId, 0);
            _firstNotified.TryAdd(serial, DateTimeOffset.UtcNow);
        }
        else
        {
            Interlocked.Increment(ref _otherEvents);
        }
        return Results.NoContent();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
