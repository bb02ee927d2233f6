using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Options;

namespace Onboarding.Notifications.Channels;

/// <summary>
/// POSTs one delivery's JSON to the customer's webhook, signed (<see cref="WebhookSignature"/>). A 2xx answer is
/// delivered; any other status, a redirect (never followed), a refused address or a timeout is a failed attempt.
/// </summary>
internal sealed class WebhookSender(IHttpClientFactory clients, TimeProvider clock, IOptions<NotificationsOptions> options)
{
    public const string ClientName = "notifications-webhook";

    public async Task<DeliveryOutcome> SendAsync(Guid deliveryId, string url, string secret, string body, CancellationToken cancellationToken)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var timestamp = clock.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add(WebhookSignature.DeliveryHeader, deliveryId.ToString("D"));
        request.Headers.Add(WebhookSignature.TimestampHeader, timestamp);
        request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Compute(secret, timestamp, bytes));

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.WebhookTimeout);
        try
        {
            using var client = clients.CreateClient(ClientName);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var status = (int)response.StatusCode;
            return response.IsSuccessStatusCode
                ? DeliveryOutcome.Success(status)
                : DeliveryOutcome.Failure(status, $"HTTP {status} {response.ReasonPhrase}".TrimEnd());
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return DeliveryOutcome.Failure(null, $"no answer within {options.Value.WebhookTimeout.TotalSeconds:0.###} s");
        }
        catch (HttpRequestException ex)
        {
            // The guard's refusal is the useful part; otherwise the socket error ("Connection refused (host:port)").
            var refused = ex.InnerException as WebhookAddressRefusedException;
            return DeliveryOutcome.Failure(null, refused?.Message ?? ex.Message);
        }
    }
}
