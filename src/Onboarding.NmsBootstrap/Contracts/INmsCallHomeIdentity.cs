using Onboarding.Inventory.Contracts;
using Onboarding.Ssh.Keys;

namespace Onboarding.NmsBootstrap.Contracts;

/// <summary>
/// How the NMS identifies itself to a device that called home (RFC 8071: the device is the SSH server, the NMS the
/// client). The NMS bootstrap server hands the public half to every device in its call-home configuration; the call-home
/// client logs in with the private half. Kept in the key store (<c>nms-identity/</c>), generated on first start.
/// </summary>
public interface INmsCallHomeIdentity
{
    /// <summary>The NMS's SSH client key (Ed25519), with its private key.</summary>
    SshHostKey ClientKey { get; }

    /// <summary>The client key as an authorized_keys line, e.g. <c>ssh-ed25519 AAAA… onboarding-nms</c>.</summary>
    string PublicKeyLine { get; }

    /// <summary>The user the NMS logs in as on the device, which the call-home configuration authorizes.</summary>
    string UserName { get; }

    /// <summary>
    /// The device's Juniper outbound-ssh secret: HMAC-SHA256 of the device id under a master key in the key store, as
    /// 64 lower-case hex digits. Derived, never stored, so the database holds no per-device secret; call home derives
    /// it again to verify the device's HMAC of its host key (DEVICE-CONN-INFO).
    /// </summary>
    string DeviceSecret(DeviceId deviceId);
}
