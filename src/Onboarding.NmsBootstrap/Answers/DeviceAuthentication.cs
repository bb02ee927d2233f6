using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Onboarding.Accounts.Contracts;
using Onboarding.Inventory.Contracts;
using Onboarding.NmsBootstrap.Contracts;
using Onboarding.ServiceDefaults.Security;

namespace Onboarding.NmsBootstrap.Answers;

/// <summary>Why a device is not served, as the device is told (status and app tag) and as the operator reads it.</summary>
/// <param name="Status">401 the certificate does not authenticate a device we expect; 403 it does, but the device may not bootstrap.</param>
internal sealed record DeviceRefusal(int Status, string AppTag, string Reason);

/// <summary>The outcome: the device and its manufacturer's trust settings, and a refusal unless it may bootstrap.</summary>
internal sealed record DeviceCheck(DeviceIdentity? Device, ManufacturerTrust? Trust, DeviceRefusal? Refusal)
{
    public bool Served => Refusal is null;
}

/// <summary>
/// Authenticates a device's IDevID at the NMS bootstrap server (DESIGN.md "Device identity and trust"): the device
/// is the bookkept one whose certificate is exactly the presented one (found by the SHA-256 of its public key, which
/// is what the device proves possession of in the TLS handshake), its manufacturer is still enabled and has a factory
/// CA, the certificate chains to that CA now, and the device is neither rejected nor already onboarded.
/// </summary>
internal sealed class DeviceAuthentication(IDeviceDirectory directory, IManufacturerAccounts accounts, TimeProvider clock,
    ILogger<DeviceAuthentication> logger)
{
    private const string SerialNumberOid = "2.5.4.5";

    public async Task<DeviceCheck> AuthenticateAsync(X509Certificate2 presented, IReadOnlyList<X509Certificate2> intermediates,
        CancellationToken cancellationToken)
    {
        var keySha256 = Convert.ToHexStringLower(SHA256.HashData(presented.PublicKey.ExportSubjectPublicKeyInfo()));
        var holders = await directory.FindKeyHoldersAsync(keySha256, cancellationToken);
        if (holders.Count == 0)
        {
            // Only for the log: a device whose serial is bookkept with another certificate is a replaced or forged one.
            var serial = SubjectSerial(presented);
            var sameSerial = serial is null ? [] : await directory.FindBySerialAsync(serial, cancellationToken);
            logger.LogWarning("Bootstrap refused: no bookkept device has the key of certificate {Subject} (key SHA-256 {KeySha256}){SameSerial}",
                presented.Subject, keySha256, sameSerial.Count > 0 ? $"; serial {serial} is bookkept with a different certificate" : "");
            return Refused(null, null, 401, "unknown-device",
                "No device with this certificate is expected here: the certificate is not the one the manufacturer's record carried.");
        }

        var matches = holders.Where(h => h.IsBookkept(presented.RawData)).Select(h => h.Device).ToList();
        if (matches.Count == 0)
        {
            var holder = holders[0].Device;
            logger.LogWarning("Bootstrap refused: device {Serial} ({DeviceId}) presented a certificate with its key that is not the bookkept one ({Subject})",
                holder.SerialNumber, holder.Id, presented.Subject);
            return Refused(holder, null, 401, "certificate-mismatch",
                "This certificate differs from the one bookkept for the device; only the bookkept IDevID certificate is accepted.");
        }

        if (matches.Count > 1)
        {
            logger.LogWarning("Bootstrap refused: the certificate {Subject} is bookkept for {Count} devices ({DeviceIds})",
                presented.Subject, matches.Count, string.Join(", ", matches.Select(m => m.Id)));
            return Refused(matches[0], null, 403, "ambiguous-device",
                "This device is bookkept more than once at this NMS; it is refused until the owners resolve it.");
        }

        return await CheckAsync(matches[0], presented, intermediates, cancellationToken);
    }

    /// <summary>
    /// Everything but the certificate's identity: manufacturer, CA chain and state. The preview calls it with the
    /// bookkept certificate, as a device presenting exactly that one would be checked.
    /// </summary>
    public async Task<DeviceCheck> CheckAsync(DeviceIdentity device, X509Certificate2 certificate, IReadOnlyList<X509Certificate2> intermediates,
        CancellationToken cancellationToken)
    {
        var (trust, refusal) = await TrustAsync(device, certificate, intermediates, cancellationToken);
        if (refusal is not null)
            return new DeviceCheck(device, trust, refusal);
        return device.State == DeviceState.Onboarded
            ? Refused(device, trust, 403, "device-onboarded",
                "This device is already onboarded; it bootstraps again only after its owner marks it for reprovisioning.")
            : new DeviceCheck(device, trust, null);
    }

    /// <summary>
    /// The trust rules shared with call home (<see cref="IDeviceTrust"/>): the manufacturer is enabled and has a
    /// factory CA, the certificate chains to it now, and the device is not rejected.
    /// </summary>
    public async Task<(ManufacturerTrust? Trust, DeviceRefusal? Refusal)> TrustAsync(DeviceIdentity device, X509Certificate2 certificate,
        IReadOnlyList<X509Certificate2> intermediates, CancellationToken cancellationToken)
    {
        var trust = await accounts.GetTrustAsync(device.ManufacturerId, cancellationToken);
        if (trust is not { Enabled: true })
            return (trust, new DeviceRefusal(403, "manufacturer-disabled", "The owner no longer accepts devices from this device's manufacturer."));

        if (trust.CaCertificates.Count == 0)
        {
            // DESIGN.md: a manufacturer without a registered CA cannot onboard devices; without it nothing vouches for the chain.
            return (trust, new DeviceRefusal(403, "manufacturer-without-ca",
                "The owner has registered no factory CA for this device's manufacturer, so its certificate cannot be verified."));
        }

        if (CertificateChains.Verify(certificate, intermediates, trust.CaCertificates, clock.GetUtcNow()) is { } chainError)
            return (trust, new DeviceRefusal(401, "untrusted-chain", $"The certificate does not chain to the manufacturer's factory CA: {chainError}."));

        return device.State == DeviceState.Rejected
            ? (trust, new DeviceRefusal(403, "device-rejected", "This device was rejected by its owner's NMS."))
            : (trust, null);
    }

    private static DeviceCheck Refused(DeviceIdentity? device, ManufacturerTrust? trust, int status, string appTag, string reason) =>
        new(device, trust, new DeviceRefusal(status, appTag, reason));

    private static string? SubjectSerial(X509Certificate2 certificate)
    {
        try
        {
            foreach (var rdn in certificate.SubjectName.EnumerateRelativeDistinguishedNames())
            {
                if (rdn.GetSingleElementType().Value == SerialNumberOid)
                    return rdn.GetSingleElementValue();
            }
        }
        catch (CryptographicException)
        {
            // A subject we cannot walk names no serial; the refusal stands without it.
        }

        return null;
    }
}

/// <summary><see cref="IDeviceTrust"/> over <see cref="DeviceAuthentication.TrustAsync"/>: one implementation of the trust rules.</summary>
internal sealed class DeviceTrust(DeviceAuthentication authentication) : IDeviceTrust
{
    public async Task<DeviceTrustVerdict> CheckAsync(DeviceIdentity device, X509Certificate2 certificate, IReadOnlyList<X509Certificate2> intermediates,
        CancellationToken cancellationToken)
    {
        var (_, refusal) = await authentication.TrustAsync(device, certificate, intermediates, cancellationToken);
        return refusal is null ? DeviceTrustVerdict.Trusted : new DeviceTrustVerdict(refusal.AppTag, refusal.Reason);
    }
}
