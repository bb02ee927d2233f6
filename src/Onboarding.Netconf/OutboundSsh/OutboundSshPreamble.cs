using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Onboarding.Netconf.OutboundSsh;

/// <summary>
/// Juniper outbound-ssh "device connection information": lines a Junos device writes on the TCP connection it opened to
/// the management server before SSH starts, 3 without a secret, 5 with one:
/// <code>
/// MSG-ID: DEVICE-CONN-INFO\r\n
/// MSG-VER: V1\r\n
/// DEVICE-ID: &lt;device-id&gt;\r\n
/// HOST-KEY: &lt;pub-host-key&gt;\r\n                       (only with "secret" configured)
/// HMAC: &lt;HMAC(pub-SSH-host-key, &lt;secret&gt;)&gt;\r\n      (only with "secret" configured)
/// </code>
/// (Junos XML management protocol guide, "Configuring Outbound SSH Service" / "Receiving and managing the outbound SSH
/// initiation sequence on the client"). After it the device is the SSH server on the same socket.
/// </summary>
public sealed record OutboundSshPreamble(string DeviceId, string? MessageVersion = "V1", string? HostKey = null, string? Hmac = null)
{
    public const string MessageId = "DEVICE-CONN-INFO";

    /// <summary>SHA-1 output, as 40 hex digits on the HMAC line.</summary>
    public const int HmacLength = 20;

    /// <summary>The 5-line form: <see cref="HostKey"/> and its HMAC under the per-device secret.</summary>
    public static OutboundSshPreamble WithHostKey(string deviceId, string hostKey, ReadOnlySpan<byte> secret) =>
        new(deviceId, "V1", hostKey, Convert.ToHexStringLower(ComputeHmac(hostKey, secret)));

    /// <summary>
    /// HMAC-SHA1 keyed with the shared secret over the HOST-KEY value exactly as it appears on the line (ASCII, without
    /// the "HOST-KEY: " label and line end). Juniper's documentation writes "HMAC(pub-SSH-host-key, &lt;secret&gt;)" without
    /// saying which argument is the key; Juniper's own outbound-ssh server in Juniper/YAPT (lib/services/ossh.py) computes
    /// <c>hmac.new(key=secret, msg=HOST-KEY value, digestmod=sha1).hexdigest()</c> after stripping NULs, and so do we.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA5350:Do Not Use Weak Cryptographic Algorithms",
        Justification = "HMAC-SHA1 is what Junos sends; HMAC does not depend on SHA-1's collision resistance.")]
    public static byte[] ComputeHmac(string hostKey, ReadOnlySpan<byte> secret) =>
        HMACSHA1.HashData(secret, Encoding.ASCII.GetBytes(hostKey));

    /// <summary>
    /// True when HOST-KEY and HMAC are present and the HMAC matches under <paramref name="secret"/>; compared in constant
    /// time (the secret must not leak through timing). A malformed HMAC value compares false.
    /// </summary>
    public bool VerifyHmac(ReadOnlySpan<byte> secret)
    {
        if (HostKey is null || Hmac is null || Hmac.Length != HmacLength * 2)
            return false;
        Span<byte> received = stackalloc byte[HmacLength];
        if (Convert.FromHexString(Hmac, received, out _, out var written) != System.Buffers.OperationStatus.Done || written != HmacLength)
            return false;
        return CryptographicOperations.FixedTimeEquals(ComputeHmac(HostKey, secret), received);
    }

    /// <summary>
    /// The SSH public key blob of HOST-KEY. Junos sends the OpenSSH form "ssh-rsa AAAA…" (as Juniper/YAPT's example shows);
    /// a bare base64 blob is accepted too. Null when the value is not base64.
    /// </summary>
    public byte[]? HostKeyBlob()
    {
        if (HostKey is null)
            return null;
        var parts = HostKey.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var base64 = parts.Length >= 2 ? parts[1] : parts.Length == 1 ? parts[0] : "";
        var buffer = new byte[base64.Length];
        return Convert.TryFromBase64String(base64, buffer, out var n) && n > 0 ? buffer[..n] : null;
    }

    /// <summary>What a device writes (the simulator's side), CRLF line ends as Junos sends them.</summary>
    public byte[] Encode()
    {
        if ((HostKey is null) != (Hmac is null))
            throw new InvalidOperationException("HOST-KEY and HMAC go together");
        var text = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"MSG-ID: {MessageId}\r\n")
            .Append(CultureInfo.InvariantCulture, $"MSG-VER: {MessageVersion ?? "V1"}\r\n")
            .Append(CultureInfo.InvariantCulture, $"DEVICE-ID: {DeviceId}\r\n");
        if (HostKey is not null)
            text.Append(CultureInfo.InvariantCulture, $"HOST-KEY: {HostKey}\r\nHMAC: {Hmac}\r\n");
        return Encoding.ASCII.GetBytes(text.ToString());
    }
}
