using Onboarding.Ssh.Keys;

namespace Onboarding.Ssh;

/// <summary>A public key login: a query (no signature yet) or a verified signature.</summary>
public sealed class SshPublicKeyRequest(string userName, SshPublicKey key, bool signatureVerified, string? clientVersion)
{
    public string UserName { get; } = userName;
    public SshPublicKey Key { get; } = key;

    /// <summary>False for the RFC 4252 §7 query ("would you accept this key?").</summary>
    public bool SignatureVerified { get; } = signatureVerified;

    public string? ClientVersion { get; } = clientVersion;

    public override string ToString() => $"publickey login for {UserName} with {Key}";
}
