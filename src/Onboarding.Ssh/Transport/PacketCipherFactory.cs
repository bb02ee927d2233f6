namespace Onboarding.Ssh.Transport;

/// <summary>Names, key sizes and construction of the supported packet protections.</summary>
internal static class PacketCipherFactory
{
    public static bool IsSupportedCipher(string name) => name is ChaCha20Poly1305Cipher.Name or AesGcmCipher.Aes128Name or AesGcmCipher.Aes256Name
        or AesCtrEtmCipher.Aes128Name or AesCtrEtmCipher.Aes256Name;

    public static bool IsSupportedMac(string name) => name is AesCtrEtmCipher.HmacSha256Etm or AesCtrEtmCipher.HmacSha512Etm;

    /// <summary>AEAD ciphers carry their own integrity; the negotiated MAC is ignored (RFC 5647 §5.1 as implemented by OpenSSH).</summary>
    public static bool IsAead(string cipher) => cipher is ChaCha20Poly1305Cipher.Name or AesGcmCipher.Aes128Name or AesGcmCipher.Aes256Name;

    public static int KeyLength(string cipher) => cipher switch
    {
        ChaCha20Poly1305Cipher.Name => ChaCha20Poly1305Cipher.KeyLength,
        AesGcmCipher.Aes128Name or AesCtrEtmCipher.Aes128Name => 16,
        _ => 32,
    };

    public static int IvLength(string cipher) => cipher switch
    {
        ChaCha20Poly1305Cipher.Name => 0,
        AesGcmCipher.Aes128Name or AesGcmCipher.Aes256Name => AesGcmCipher.IvLength,
        _ => 16,
    };

    public static int MacKeyLength(string cipher, string? mac) => IsAead(cipher) || mac is null ? 0 : AesCtrEtmCipher.MacKeyLength(mac);

    public static IPacketCipher Create(string cipher, string? mac, ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> macKey) => cipher switch
    {
        ChaCha20Poly1305Cipher.Name => new ChaCha20Poly1305Cipher(key),
        AesGcmCipher.Aes128Name or AesGcmCipher.Aes256Name => new AesGcmCipher(key, iv),
        AesCtrEtmCipher.Aes128Name or AesCtrEtmCipher.Aes256Name => new AesCtrEtmCipher(key, iv, mac!, macKey),
        _ => throw new SshProtocolException(SshDisconnectReason.KeyExchangeFailed, "Unsupported cipher " + cipher),
    };
}
