using Onboarding.Ssh.Keys;

namespace Onboarding.HostKeys.Contracts;

/// <summary>The NMS's own SSH host keys: the SFTP drop presents them, and customers hand their fingerprints to manufacturers.</summary>
public interface INmsHostKeys
{
    IReadOnlyList<SshHostKey> Keys { get; }

    IReadOnlyList<HostKeyFingerprint> Fingerprints { get; }
}

/// <param name="Algorithm">The key type, e.g. <c>ssh-ed25519</c>.</param>
/// <param name="Fingerprint">OpenSSH's form, <c>SHA256:</c> + unpadded base64, as <c>ssh-keygen -lf</c> prints it.</param>
/// <param name="PublicKey">The public key as an authorized_keys / known_hosts line body.</param>
public sealed record HostKeyFingerprint(string Algorithm, string Fingerprint, string PublicKey);
