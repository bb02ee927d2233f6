using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Onboarding.Inventory.Contracts;
using Onboarding.Netconf.OutboundSsh;
using Onboarding.NmsBootstrap.Contracts;
using Onboarding.Ssh;

namespace Onboarding.CallHome.Trust;

/// <summary>Why a call home was refused: a stable code for logs and tests, and one sentence for the timeline.</summary>
internal sealed record CallHomeRefusal(string Code, string Reason);

/// <summary>
/// Who called: the device the presented key belongs to (null when no device could be named), how it was identified,
/// and the refusal unless it is trusted.
/// </summary>
internal sealed record CallHomeDecision(DeviceIdentity? Device, string? IdentifiedBy, CallHomeRefusal? Refusal)
{
    public bool Accepted => Device is not null && Refusal is null;
}

/// <summary>
/// Identifies and authenticates a device that called home (DESIGN.md "Device identity and trust"; RFC 8071 §3.1: the
/// NMS authenticates the device by its SSH host key). Runs in the SSH client's host-key verifier, after the device
/// proved possession of the key by signing the exchange hash. The device is identified only by that key, never by its
/// address or by what it says in an outbound-ssh preamble:
/// <list type="bullet">
/// <item>an RFC 6187 x509v3 host key whose leaf certificate is exactly a device's bookkept IDevID (the rest of the chain
/// it sent then counts as intermediates towards the manufacturer CA);</item>
/// <item>a plain host key pinned for the device at bootstrap-complete (<see cref="IPinnedHostKeys"/>);</item>
/// <item>a plain host key that is the key of the device's bookkept IDevID certificate (found by the SHA-256 of its
/// SubjectPublicKeyInfo).</item>
/// </list>
/// A DEVICE-ID in the preamble must then name that same device, and with a 5-line preamble its HMAC must verify under the
/// device's secret and its HOST-KEY must be the key SSH presented. Last, the shared trust rules (<see cref="IDeviceTrust"/>):
/// manufacturer enabled with a CA, certificate chains to it, device not rejected.
/// </summary>
internal sealed class CallHomeAuthentication(IDeviceDirectory directory, IPinnedHostKeys pins, IDeviceTrust trust, INmsCallHomeIdentity identity)
{
    public async Task<CallHomeDecision> AuthenticateAsync(SshHostKeyContext context, OutboundSshPreamble? preamble, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var key = context.HostKey;
        List<DeviceIdentity> devices;
        string identifiedBy;
        X509Certificate2? leaf = null;
        IReadOnlyList<X509Certificate2> intermediates = [];
        if (context.CertificateChain.Count > 0)
        {
            leaf = context.CertificateChain[0];
            intermediates = [.. context.CertificateChain.Skip(1)];
            identifiedBy = $"x509v3 host key, certificate {leaf.Subject}";
            var keySha256 = Convert.ToHexStringLower(SHA256.HashData(leaf.PublicKey.ExportSubjectPublicKeyInfo()));
            var withKey = await directory.FindKeyHoldersAsync(keySha256, cancellationToken);
            devices = [.. withKey.Where(h => h.IsBookkept(leaf.RawData)).Select(h => h.Device)];
            if (devices.Count == 0 && withKey.Count > 0)
            {
                return new CallHomeDecision(withKey[0].Device, identifiedBy, new CallHomeRefusal("certificate-mismatch",
                    $"The device presented an x509v3 host key with its own key but not its bookkept certificate ({leaf.Subject}); only the bookkept IDevID is accepted."));
            }
        }
        else
        {
            devices = [];
            foreach (var id in await pins.FindDevicesAsync(key.Fingerprint, cancellationToken))
            {
                if (await directory.GetAsync(id, cancellationToken) is { } pinned)
                    devices.Add(pinned);
            }

            identifiedBy = $"host key {key.Fingerprint} pinned at bootstrap-complete";
            if (devices.Count == 0 && SubjectPublicKeyInfo.Sha256Hex(key) is { } keySha256)
            {
                devices.AddRange(await directory.FindByPublicKeySha256Async(keySha256, cancellationToken));
                identifiedBy = $"host key {key.Fingerprint} of its IDevID certificate";
            }
        }

        // Two devices with one key (two customers bookkept the same certificate, or a key pinned twice): the preamble's
        // DEVICE-ID may pick among them, since each candidate already holds the key; otherwise nobody is named.
        if (devices.Count > 1 && preamble is not null)
            devices = [.. devices.Where(d => string.Equals(d.SerialNumber, preamble.DeviceId, StringComparison.Ordinal))];
        if (devices.Count == 0)
        {
            return new CallHomeDecision(null, null, new CallHomeRefusal("unknown-key",
                $"No device has the host key {key.Fingerprint} ({context.HostKeyAlgorithm}) pinned or in its IDevID certificate."));
        }

        if (devices.DistinctBy(d => d.Id).Count() > 1)
        {
            return new CallHomeDecision(null, null, new CallHomeRefusal("ambiguous-key",
                $"The host key {key.Fingerprint} belongs to {devices.Count} devices ({string.Join(", ", devices.Select(d => d.Id))})."));
        }

        var device = devices[0];
        if (preamble is not null && await CheckPreambleAsync(device, preamble, context, cancellationToken) is { } preambleRefusal)
            return new CallHomeDecision(device, identifiedBy, preambleRefusal);

        // The bookkept certificate is loaded here and ours to dispose (an x509v3 host key's chain belongs to the SSH
        // context): its native handle is freed now instead of by the finalizer thread, once per call home.
        using var loaded = leaf is null && await directory.GetCertificateAsync(device.Id, cancellationToken) is { } der
            ? X509CertificateLoader.LoadCertificate(der)
            : null;
        leaf ??= loaded;
        if (leaf is null)
            return new CallHomeDecision(device, identifiedBy, new CallHomeRefusal("untrusted-chain", "The device has no bookkept certificate."));

        var verdict = await trust.CheckAsync(device, leaf, intermediates, cancellationToken);
        return verdict.IsTrusted
            ? new CallHomeDecision(device, identifiedBy, null)
            : new CallHomeDecision(device, identifiedBy, new CallHomeRefusal(verdict.Code!, verdict.Reason!));
    }

    private async Task<CallHomeRefusal?> CheckPreambleAsync(DeviceIdentity device, OutboundSshPreamble preamble, SshHostKeyContext context,
        CancellationToken cancellationToken)
    {
        if (!string.Equals(preamble.DeviceId, device.SerialNumber, StringComparison.Ordinal))
        {
            // Looked up within the key's customer only: the answer is for the log and the owner, never a way to probe others.
            var named = await directory.FindAsync(device.CustomerId, preamble.DeviceId, cancellationToken);
            var what = named is null ? "no device of this owner" : $"another device of this owner ({named.Id})";
            return new CallHomeRefusal("device-id-mismatch",
                $"The outbound-ssh DEVICE-ID '{Printable(preamble.DeviceId)}' names {what}, but the host key is this device's ({device.SerialNumber}).");
        }

        if (preamble.HostKey is null)
            return null;

        // Junos: HMAC-SHA1 of the HOST-KEY line keyed with the configured secret, which is the text bootstrap handed out.
        var secret = Encoding.ASCII.GetBytes(identity.DeviceSecret(device.Id));
        try
        {
            if (!preamble.VerifyHmac(secret))
            {
                return new CallHomeRefusal("bad-hmac",
                    "The outbound-ssh HMAC does not verify under the device's secret (the device's outbound-ssh secret differs from the one bootstrap configured).");
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }

        var announced = preamble.HostKeyBlob();
        return announced is not null && announced.AsSpan().SequenceEqual(context.HostKey.Blob)
            ? null
            : new CallHomeRefusal("host-key-mismatch", $"The outbound-ssh HOST-KEY is not the host key the SSH handshake presented ({context.HostKey.Fingerprint}).");
    }

    private static string Printable(string value) =>
        new([.. value.Take(64).Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':' or '/' ? c : '?')]);
}
