using Onboarding.Inventory.Contracts;

namespace Onboarding.NmsBootstrap.Contracts;

/// <summary>
/// The SSH host keys devices reported in their RFC 8572 bootstrap-complete progress report (§7.3), pinned for call
/// home: the key a device presents when it dials in identifies it (DESIGN.md "Device identity and trust").
/// </summary>
public interface IPinnedHostKeys
{
    /// <summary>The device's pinned keys (empty when it has reported none).</summary>
    Task<IReadOnlyList<PinnedHostKey>> GetAsync(DeviceId deviceId, CancellationToken cancellationToken);

    /// <summary>Which devices pinned this key (by its <c>SHA256:…</c> fingerprint); normally one.</summary>
    Task<IReadOnlyList<DeviceId>> FindDevicesAsync(string fingerprint, CancellationToken cancellationToken);
}

/// <param name="Algorithm">The public key algorithm, e.g. <c>ssh-ed25519</c>.</param>
/// <param name="KeyData">The key in SSH wire format (RFC 4253 §6.6).</param>
/// <param name="Fingerprint">OpenSSH's <c>SHA256:…</c> fingerprint of <paramref name="KeyData"/>.</param>
public sealed record PinnedHostKey(string Algorithm, byte[] KeyData, string Fingerprint, DateTimeOffset PinnedAt);
