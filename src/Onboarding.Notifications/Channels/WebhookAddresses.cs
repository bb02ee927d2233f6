using System.Net;
using System.Net.Sockets;

namespace Onboarding.Notifications.Channels;

/// <summary>
/// The SSRF guard of webhook delivery: a customer's URL must not make the NMS reach its own network (loopback, the
/// database, a cloud metadata service at 169.254.169.254). Checked when connecting, on the addresses DNS returned, so a
/// name that resolves differently later (DNS rebinding) is caught too; redirects are never followed.
/// </summary>
internal static class WebhookAddresses
{
    /// <summary>True for addresses a webhook may not reach unless <c>Notifications:AllowPrivateNetworkWebhooks</c> is set.</summary>
    public static bool IsNonPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.Broadcast))
            return true;
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b[0] switch
            {
                0 or 10 or 127 => true,                          // "this network", RFC 1918, loopback
                100 => b[1] is >= 64 and <= 127,                 // RFC 6598 shared address space (CGNAT)
                169 => b[1] == 254,                              // link-local, cloud metadata services
                172 => b[1] is >= 16 and <= 31,                  // RFC 1918
                192 => (b[1] == 168) || (b[1] == 0 && b[2] == 0), // RFC 1918, IETF protocol assignments
                198 => b[1] is 18 or 19,                         // RFC 2544 benchmarking
                _ => b[0] >= 224,                                // multicast and reserved
            };
        }

        return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || address.IsIPv6UniqueLocal;
    }

    /// <summary>A <see cref="SocketsHttpHandler.ConnectCallback"/> that connects only to public addresses.</summary>
    public static async ValueTask<Stream> ConnectPublicAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var allowed = addresses.Where(a => !IsNonPublic(a)).ToArray();
        if (allowed.Length == 0)
            throw new WebhookAddressRefusedException($"refused: {host} resolves only to non-public addresses ({string.Join(", ", addresses.Select(a => a.ToString()))})");
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

/// <summary>The webhook's host resolves only to addresses the SSRF guard refuses.</summary>
internal sealed class WebhookAddressRefusedException(string message) : IOException(message);
