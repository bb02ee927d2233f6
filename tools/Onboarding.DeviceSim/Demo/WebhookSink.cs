using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Onboarding.DeviceSim.Demo;

/// <summary>One owner notification as the demo's receiver got it.</summary>
internal sealed record ReceivedNotification(DateTimeOffset At, string Event, string? Serial, bool SignatureValid);

/// <summary>
/// The customer's webhook receiver, inside the demo process: an HTTP listener on a loopback port that checks each
/// delivery's signature as a customer would (HMAC-SHA256 over "&lt;timestamp&gt;.&lt;body&gt;" with the secret, compared in
/// constant time) and answers 204.
/// </summary>
internal sealed class WebhookSink : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<ReceivedNotification> _received = new();
    private readonly Task _loop;
    private byte[] _secret = [];

    private WebhookSink(int port)
    {
        Port = port;
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _loop = Task.Run(AcceptAsync);
    }

    public int Port { get; }

    public Uri Url => new($"http://127.0.0.1:{Port}/onboarding");

    /// <summary>Called for every delivery, after it is recorded.</summary>
    public Action<ReceivedNotification>? Received { get; set; }

    public IReadOnlyList<ReceivedNotification> All => [.. _received];

    /// <summary>The signing secret the NMS answered the webhook's PUT with.</summary>
    public string Secret
    {
        set => _secret = Encoding.UTF8.GetBytes(value);
    }

    /// <param name="port">0: a free loopback port.</param>
    public static WebhookSink Start(int port = 0)
    {
        if (port != 0)
            return new WebhookSink(port);
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return new WebhookSink(port);
    }

    private async Task AcceptAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            try
            {
                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                var notification = Parse(context.Request.Headers["X-Onboarding-Timestamp"] ?? "", context.Request.Headers["X-Onboarding-Signature"] ?? "", body.ToArray());
                _received.Enqueue(notification);
                Received?.Invoke(notification);
                context.Response.StatusCode = notification.SignatureValid ? 204 : 401;
            }
            catch (Exception e) when (e is JsonException or IOException or HttpListenerException)
            {
                context.Response.StatusCode = 400;
            }
            context.Response.Close();
        }
    }

    private ReceivedNotification Parse(string timestamp, string signature, byte[] body)
    {
        byte[] signed = [.. Encoding.UTF8.GetBytes(timestamp + "."), .. body];
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(_secret, signed));
        var valid = _secret.Length > 0 && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature));
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        var kind = root.TryGetProperty("event", out var e) ? e.GetString() ?? "" : "";
        var serial = root.TryGetProperty("device", out var device) && device.TryGetProperty("serialNumber", out var s) ? s.GetString() : null;
        return new ReceivedNotification(DateTimeOffset.UtcNow, kind, serial, valid);
    }

    public void Dispose()
    {
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The loop ends with the listener.
        }
    }
}
