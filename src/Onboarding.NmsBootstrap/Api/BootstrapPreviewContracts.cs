using Onboarding.Accounts.Contracts;
using Onboarding.Inventory.Contracts;

namespace Onboarding.NmsBootstrap.Api;

/// <summary>
/// What the NMS bootstrap server would answer this device now, computed without the device and without side effects.
/// </summary>
/// <param name="WouldBeServed">True: a device presenting its bookkept certificate would get <see cref="Configuration"/>.</param>
/// <param name="Refusal">Why not, as the device would be told; null when served.</param>
/// <param name="CallHomeStyle"><c>netconf</c> or <c>junos</c>, chosen per manufacturer; null when the manufacturer is unknown.</param>
/// <param name="CallHome">Where the configuration tells the device to call home.</param>
/// <param name="Configuration">The configuration text (RFC 8572 configuration, applied with configuration-handling merge).</param>
public sealed record BootstrapPreview(
    DeviceId DeviceId,
    string SerialNumber,
    DeviceState State,
    bool WouldBeServed,
    BootstrapRefusalView? Refusal,
    CallHomeStyle? CallHomeStyle,
    CallHomeEndpoint CallHome,
    string ConfigurationHandling,
    string? Configuration);

/// <param name="Status">The HTTP status the device would get: 401 not authenticated, 403 known but refused.</param>
/// <param name="AppTag">The error-app-tag in the device's <c>ietf-restconf:errors</c>.</param>
public sealed record BootstrapRefusalView(int Status, string AppTag, string Reason);

/// <param name="User">The user the NMS logs in as; the configuration authorizes <paramref name="PublicKey"/> for it.</param>
public sealed record CallHomeEndpoint(string Host, int Port, string User, string PublicKey);

/// <summary>A device's SSH host keys pinned at bootstrap-complete, which call home recognises it by.</summary>
public sealed record DeviceHostKeys(DeviceId DeviceId, string SerialNumber, IReadOnlyList<PinnedHostKeyView> Keys);

/// <param name="PublicKey">An OpenSSH public key line (known_hosts / authorized_keys form).</param>
public sealed record PinnedHostKeyView(string Algorithm, string Fingerprint, string PublicKey, DateTimeOffset PinnedAt);
