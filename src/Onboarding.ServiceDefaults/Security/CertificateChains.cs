using System.Security.Cryptography.X509Certificates;

namespace Onboarding.ServiceDefaults.Security;

/// <summary>
/// The one chain check for certificates that come from outside (a device's IDevID, a manufacturer's device record):
/// anchored only at the CAs given (never the system store), at the given time, without revocation checks, and without
/// downloads. A certificate names where its issuers can be fetched (Authority Information Access); by default .NET
/// fetches a missing one from there while it builds the chain, so whoever made the certificate would make us send HTTP
/// requests to any address it chose and wait for their answers. Only the intermediates handed to us count.
/// </summary>
public static class CertificateChains
{
    /// <returns>null when <paramref name="certificate"/> chains to one of <paramref name="anchors"/> at <paramref name="at"/>;
    /// otherwise why not, as the chain engine says it.</returns>
    public static string? Verify(X509Certificate2 certificate, IEnumerable<X509Certificate2> intermediates, X509Certificate2Collection anchors,
        DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(intermediates);
        ArgumentNullException.ThrowIfNull(anchors);
        using var chain = new X509Chain();
        var policy = chain.ChainPolicy;
        policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        policy.CustomTrustStore.AddRange(anchors);
        foreach (var intermediate in intermediates)
            policy.ExtraStore.Add(intermediate);
        policy.RevocationMode = X509RevocationMode.NoCheck;
        policy.DisableCertificateDownloads = true;
        policy.VerificationTime = at.UtcDateTime;
        policy.VerificationTimeIgnored = false;
        if (chain.Build(certificate))
            return null;
        return string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct()) is { Length: > 0 } reasons
            ? reasons
            : "no chain";
    }
}
