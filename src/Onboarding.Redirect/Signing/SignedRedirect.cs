using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Onboarding.Redirect.Data;
using Onboarding.Sztp;

namespace Onboarding.Redirect.Signing;

/// <summary>
/// Signed mode at the redirect server (RFC 8572 §5.4, DESIGN.md "The hand-off bundle"): the NMS-signed
/// redirect-information and owner certificate from the profile, plus an ownership voucher this manufacturer signs for
/// the one device. The answer is verified the way the device will verify it before it leaves, so a profile or key
/// store that went wrong fails here, logged, instead of at a device in the field.
/// </summary>
internal sealed class SignedRedirect(ManufacturerVoucherKeys keys, IOptions<RedirectOptions> options, TimeProvider clock,
    ILogger<SignedRedirect> logger) : ISignedRedirect
{
    public async Task<GetBootstrappingDataOutput?> BuildAsync(Guid manufacturerId, string serialNumber, NmsProfile profile, byte[]? nonce,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentException.ThrowIfNullOrEmpty(serialNumber);
        if (profile.OwnerCertificate is null || profile.SignedRedirectInformation is null)
            return null;
        if (profile.ManufacturerId != manufacturerId)
            throw new InvalidOperationException($"NMS profile {profile.Id} belongs to another manufacturer");

        var now = clock.GetUtcNow();
        OwnerArtifacts owner;
        try
        {
            owner = OwnerArtifacts.Parse(profile.OwnerCertificate, profile.SignedRedirectInformation, now);
        }
        catch (OwnerArtifactsException e)
        {
            logger.LogError(e, "NMS profile {ProfileId} of manufacturer {ManufacturerId} cannot serve signed data to {Serial}: {Field} is inconsistent",
                profile.Id, manufacturerId, serialNumber, e.Field);
            throw new InvalidOperationException($"NMS profile {profile.Id} cannot serve signed data: {e.Field}: {e.Message}", e);
        }

        var identity = await keys.GetAsync(manufacturerId, cancellationToken);
        // RFC 8366 §5.3: a voucher carries nonce or expires-on, never both; expires-on "MUST NOT exceed the expiration
        // date of any of the listed 'pinned-domain-cert' certificates", and a voucher that outlived its signing
        // certificate could not be verified anyway.
        DateTimeOffset? expires = nonce is null
            ? Earliest(now + options.Value.VoucherLifetime, owner.OwnerCertificate.NotAfter, identity.Signing.NotAfter)
            : null;
        var voucher = new OwnershipVoucher(now, expires, VoucherAssertion.Verified, serialNumber, owner.OwnerCertificate.RawData, nonce)
            .Sign(identity.Signing, [identity.Root], RSASignaturePadding.Pkcs1);
        var output = new GetBootstrappingDataOutput(owner.SignedRedirectInformation, owner.OwnerCertificateCms, voucher);

        try
        {
            SignedBootstrapData.Verify(output, [identity.Root], serialNumber, nonce, now);
        }
        catch (SztpException e)
        {
            logger.LogError(e, "Signed data for {Serial} (manufacturer {ManufacturerId}, NMS profile {ProfileId}) does not verify: {Error}",
                serialNumber, manufacturerId, profile.Id, e.Error);
            throw new InvalidOperationException($"signed data for NMS profile {profile.Id} does not verify: {e.Message}", e);
        }

        logger.LogInformation("Signed an ownership voucher for {Serial} (manufacturer {ManufacturerId}, NMS profile {ProfileId}, {Freshness})",
            serialNumber, manufacturerId, profile.Id, nonce is null ? $"expires {expires:O}" : "nonce");
        return output;
    }

    private static DateTimeOffset Earliest(DateTimeOffset lifetime, DateTime ownerNotAfter, DateTime signingNotAfter)
    {
        var earliest = lifetime;
        foreach (var notAfter in new[] { ownerNotAfter, signingNotAfter })
        {
            var value = new DateTimeOffset(notAfter.ToUniversalTime());
            if (value < earliest)
                earliest = value;
        }
        return earliest;
    }
}
