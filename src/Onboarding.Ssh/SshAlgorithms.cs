namespace Onboarding.Ssh;

/// <summary>Algorithm names and the default preference lists for each role.</summary>
public static class SshAlgorithms
{
    public const string Curve25519Sha256 = "curve25519-sha256";
    public const string Curve25519Sha256Libssh = "curve25519-sha256@libssh.org";
    public const string EcdhNistp256 = "ecdh-sha2-nistp256";
    public const string DhGroup14Sha256 = "diffie-hellman-group14-sha256";
    public const string DhGroup16Sha512 = "diffie-hellman-group16-sha512";

    public const string Ed25519 = "ssh-ed25519";
    public const string RsaSha512 = "rsa-sha2-512";
    public const string RsaSha256 = "rsa-sha2-256";
    public const string EcdsaNistp256 = "ecdsa-sha2-nistp256";
    public const string EcdsaNistp384 = "ecdsa-sha2-nistp384";
    public const string EcdsaNistp521 = "ecdsa-sha2-nistp521";

    /// <summary>RFC 6187 X.509 host keys (client side): the server sends its certificate chain.</summary>
    public const string X509EcdsaNistp256 = "x509v3-ecdsa-sha2-nistp256";
    public const string X509Rsa2048Sha256 = "x509v3-rsa2048-sha256";
    public const string X509Ed25519 = "x509v3-ssh-ed25519";

    public const string ChaCha20Poly1305 = "chacha20-poly1305@openssh.com";
    public const string Aes128Gcm = "aes128-gcm@openssh.com";
    public const string Aes256Gcm = "aes256-gcm@openssh.com";
    public const string Aes128Ctr = "aes128-ctr";
    public const string Aes256Ctr = "aes256-ctr";

    public const string HmacSha256Etm = "hmac-sha2-256-etm@openssh.com";
    public const string HmacSha512Etm = "hmac-sha2-512-etm@openssh.com";

    /// <summary>Client role: devices may offer nothing better than NIST ECDH or finite-field DH.</summary>
    public static IReadOnlyList<string> ClientKeyExchange { get; } = [Curve25519Sha256, Curve25519Sha256Libssh, EcdhNistp256, DhGroup16Sha512, DhGroup14Sha256];

    /// <summary>Server role: curve25519 only (ssh-audit fails the NIST curves; DESIGN.md).</summary>
    public static IReadOnlyList<string> ServerKeyExchange { get; } = [Curve25519Sha256, Curve25519Sha256Libssh];

    /// <summary>
    /// Host key algorithms the client accepts (device certificates are often ECDSA). The RFC 6187 x509v3-*
    /// ones come last, so a server that offers both keeps today's choice; put them first to prefer the chain.
    /// </summary>
    public static IReadOnlyList<string> ClientHostKeys { get; } = [Ed25519, EcdsaNistp256, EcdsaNistp384, EcdsaNistp521, RsaSha512, RsaSha256, X509EcdsaNistp256, X509Ed25519, X509Rsa2048Sha256];

    /// <summary>
    /// Client ciphers, preferred first. AES-GCM leads because it is hardware accelerated (our server with
    /// aes128-gcm ran 1.4–2× faster than with chacha20-poly1305 in the same runs; bench/README.md).
    /// </summary>
    public static IReadOnlyList<string> ClientCiphers { get; } = [Aes128Gcm, Aes256Gcm, ChaCha20Poly1305, Aes128Ctr, Aes256Ctr];

    /// <summary>
    /// Server ciphers. chacha20-poly1305 is offered again since it seals and opens in place with the OpenSSL
    /// keystream and BouncyCastle 2.7's span Poly1305: in bench/results/ssh-throughput-chacha-span-run*.txt our
    /// server with our client reached 0.80× and 0.82× of OpenSSH sshd (0.55–0.67× before), and with OpenSSH's ssh
    /// as the client it ran 1.52× and 1.25× sshd's own chacha20. It is not well below OpenSSH, so a client that
    /// wants it gets it. RFC 4253 §7.1: the client's order decides, so stock OpenSSH clients (chacha20 first)
    /// will pick it; in the same runs aes128-gcm on our server was 1.4–2× faster, which is why it leads here and
    /// in <see cref="ClientCiphers"/>. Leave it out of SshServerOptions.Ciphers to steer such clients to AES-GCM.
    /// </summary>
    public static IReadOnlyList<string> ServerCiphers { get; } = [Aes128Gcm, Aes256Gcm, ChaCha20Poly1305, Aes128Ctr, Aes256Ctr];

    public static IReadOnlyList<string> Macs { get; } = [HmacSha256Etm, HmacSha512Etm];

    /// <summary>Every cipher the library implements.</summary>
    public static IReadOnlyList<string> AllCiphers { get; } = [ChaCha20Poly1305, Aes128Gcm, Aes256Gcm, Aes128Ctr, Aes256Ctr];

    /// <summary>Every key exchange the library implements.</summary>
    public static IReadOnlyList<string> AllKeyExchange { get; } = [Curve25519Sha256, Curve25519Sha256Libssh, EcdhNistp256, DhGroup14Sha256, DhGroup16Sha512];
}
