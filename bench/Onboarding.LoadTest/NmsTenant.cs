using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Onboarding.Ssh;

namespace Onboarding.LoadTest;

/// <summary>
/// A customer signed up on a running host with one manufacturer and its factory CA registered: what every load test
/// needs before it can upload device records to the drop. <see cref="Http"/> carries the customer's API key.
/// </summary>
/// <param name="Pins">The SFTP host-key fingerprints the NMS shared with the manufacturer.</param>
internal sealed record NmsTenant(HttpClient Http, string CustomerId, string ManufacturerId, string UserName, string Passphrase, HashSet<string> Pins, FactoryAuthority Ca)
    : IDisposable
{
    /// <summary>SSH client options for the manufacturer's SFTP account, pinned to the shared host keys.</summary>
    public SshClientOptions SftpOptions => new()
    {
        UserName = UserName,
        Password = Passphrase,
        HostKeyVerifier = (context, _) => ValueTask.FromResult(Pins.Contains(context.HostKey.Fingerprint)),
    };

    public static async Task<NmsTenant> SignUpAsync(Uri url, string customerName, string manufacturerName, CancellationToken cancellationToken)
    {
        var http = CreateClient(url);
        try
        {
            var signUp = await PostAsync(http, "/api/customers", new { name = customerName, contactEmail = "loadtest@bench.example" }, cancellationToken);
            http.DefaultRequestHeaders.Add("X-Api-Key", signUp.GetProperty("apiKey").GetString());
            var manufacturer = await PostAsync(http, "/api/manufacturers", new { name = manufacturerName, serverDnsName = "redirect.acme.example" }, cancellationToken);
            var manufacturerId = manufacturer.GetProperty("manufacturerId").GetString()!;
            var pins = manufacturer.GetProperty("manufacturer").GetProperty("sftp").GetProperty("hostKeyFingerprints").EnumerateArray()
                .Select(f => f.GetProperty("fingerprint").GetString()!).ToHashSet(StringComparer.Ordinal);
            var ca = new FactoryAuthority();
            try
            {
                (await http.PutAsJsonAsync($"/api/manufacturers/{manufacturerId}/ca", new { certificatesPem = ca.Pem }, cancellationToken)).EnsureSuccessStatusCode();
                return new NmsTenant(http, signUp.GetProperty("id").GetString()!, manufacturerId,
                    manufacturer.GetProperty("username").GetString()!, manufacturer.GetProperty("passphrase").GetString()!, pins, ca);
            }
            catch
            {
                ca.Dispose();
                throw;
            }
        }
        catch
        {
            http.Dispose();
            throw;
        }
    }

    /// <summary>
    /// An HTTP client for the host that repeats a request answered 503 (the host's answer while PostgreSQL restarts,
    /// e.g. right after the telemetry test's restart phase) after its Retry-After, a few times.
    /// </summary>
    public static HttpClient CreateClient(Uri url) =>
        new(new RetryUnavailable { InnerHandler = new SocketsHttpHandler() }) { BaseAddress = url, Timeout = TimeSpan.FromSeconds(60) };

    private static async Task<JsonElement> PostAsync(HttpClient http, string path, object body, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync(path, body, cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"POST {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        return await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
    }

    public void Dispose()
    {
        Http.Dispose();
        Ca.Dispose();
    }

    private sealed class RetryUnavailable : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            // Request content is buffered by JsonContent/StringContent, so it can be sent again.
            for (var attempt = 1; ; attempt++)
            {
                var response = await base.SendAsync(request, cancellationToken);
                if (response.StatusCode != HttpStatusCode.ServiceUnavailable || attempt == 5)
                    return response;
                var delay = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1);
                response.Dispose();
                await Task.Delay(delay, cancellationToken);
            }
        }
    }
}
