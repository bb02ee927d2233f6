using System.Security.Cryptography;
using System.Text;

namespace Onboarding.Notifications.Channels;

/// <summary>
/// <c>X-Onboarding-Signature: sha256=&lt;hex HMAC-SHA256&gt;</c> over <c>"&lt;timestamp&gt;.&lt;body&gt;"</c>, keyed with the
/// UTF-8 bytes of the whole secret (prefix included), so <c>openssl dgst -sha256 -hmac "$SECRET"</c> checks it. The
/// timestamp is signed too, so a receiver can refuse an old delivery replayed at it.
/// </summary>
internal static class WebhookSignature
{
    public const string DeliveryHeader = "X-Onboarding-Delivery";
    public const string TimestampHeader = "X-Onboarding-Timestamp";
    public const string SignatureHeader = "X-Onboarding-Signature";

    public static string Compute(string secret, string timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(timestamp + ".");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        return "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
    }
}
