using System.Security.Cryptography.X509Certificates;
using Onboarding.Inventory.Contracts;

namespace Onboarding.NmsBootstrap.Contracts;

/// <summary>
/// Whether the NMS still trusts a known device (DESIGN.md "Device identity and trust"): its manufacturer is enabled
/// and has a factory CA, the certificate chains to that CA now, and the device is not rejected. The same checks the
/// NMS bootstrap server makes, offered to call home so the trust rules live in one place. Which device it is (by its
/// certificate, its key or a pinned host key) is the caller's decision; state rules beyond "not rejected" are too
/// (the bootstrap server also refuses onboarded devices, call home does not).
/// </summary>
public interface IDeviceTrust
{
    /// <param name="certificate">The device's IDevID: the bookkept certificate, or the presented leaf that equals it.</param>
    /// <param name="intermediates">Intermediates the device presented (e.g. the rest of an RFC 6187 chain); may be empty.</param>
    Task<DeviceTrustVerdict> CheckAsync(DeviceIdentity device, X509Certificate2 certificate, IReadOnlyList<X509Certificate2> intermediates,
        CancellationToken cancellationToken);
}

/// <summary>Trusted, or why not.</summary>
/// <param name="Code">Null when trusted; otherwise <c>manufacturer-disabled</c>, <c>manufacturer-without-ca</c>,
/// <c>untrusted-chain</c> or <c>device-rejected</c>.</param>
/// <param name="Reason">One sentence for the timeline and the log; null when trusted.</param>
public sealed record DeviceTrustVerdict(string? Code, string? Reason)
{
    public static DeviceTrustVerdict Trusted { get; } = new(null, null);

    public bool IsTrusted => Code is null;
}
