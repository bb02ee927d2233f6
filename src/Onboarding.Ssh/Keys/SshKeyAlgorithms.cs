namespace Onboarding.Ssh.Keys;

/// <summary>Key type and signature algorithm names (RFC 4253 §6.6, RFC 5656 §3, RFC 8332, RFC 8709).</summary>
internal static class SshKeyAlgorithms
{
    public const string Ed25519 = "ssh-ed25519";
    public const string Rsa = "ssh-rsa";
    public const string RsaSha256 = "rsa-sha2-256";
    public const string RsaSha512 = "rsa-sha2-512";
    public const string EcdsaP256 = "ecdsa-sha2-nistp256";
    public const string EcdsaP384 = "ecdsa-sha2-nistp384";
    public const string EcdsaP521 = "ecdsa-sha2-nistp521";

    /// <summary>RFC 8332 §3: RSA keys below this size are refused for verification.</summary>
    public const int MinRsaVerifyBits = 2048;

    public static bool IsKnownKeyType(string keyType) => keyType is Ed25519 or Rsa or EcdsaP256 or EcdsaP384 or EcdsaP521;

    /// <summary>The key type a signature algorithm belongs to, or null when we do not accept the algorithm at all (e.g. SHA-1 "ssh-rsa").</summary>
    public static string? KeyTypeForSignature(string signatureAlgorithm) => signatureAlgorithm switch
    {
        Ed25519 => Ed25519,
        RsaSha256 or RsaSha512 => Rsa,
        EcdsaP256 or EcdsaP384 or EcdsaP521 => signatureAlgorithm,
        _ => null,
    };
}
