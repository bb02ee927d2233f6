using Onboarding.Redirect.Data;
using Onboarding.Sztp;

namespace Onboarding.Redirect.Signing;

/// <summary>
/// The answer for a device that sent <c>signed-data-preferred</c> (RFC 8572 §5.4 / §7.2): the NMS-signed
/// redirect-information from the hand-off bundle as conveyed-information, the owner certificate (certificates-only CMS)
/// from the bundle, and an ownership voucher (RFC 8366 JSON in CMS) for this one device, signed by the manufacturer's
/// voucher key, with pinned-domain-cert = the owner certificate and serial-number = the device's serial.
/// </summary>
internal interface ISignedRedirect
{
    /// <summary>
    /// Null when the profile carries no owner certificate or signed redirect-information (the NMS has not produced
    /// them): the caller then answers unsigned, which a device that only prefers signed data accepts.
    /// </summary>
    Task<GetBootstrappingDataOutput?> BuildAsync(Guid manufacturerId, string serialNumber, NmsProfile profile, byte[]? nonce,
        CancellationToken cancellationToken);
}
