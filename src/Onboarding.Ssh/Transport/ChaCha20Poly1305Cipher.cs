using System.Buffers.Binary;
using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Macs;
using Org.BouncyCastle.Crypto.Parameters;

namespace Onboarding.Ssh.Transport;

/// <summary>
/// chacha20-poly1305@openssh.com (OpenSSH PROTOCOL.chacha20poly1305): a 64-byte key split into
/// K_2 (main, first 32 bytes) and K_1 (header, last 32 bytes); nonce = uint64 sequence number.
/// The length is encrypted with K_1; the Poly1305 key is the first 32 bytes of the K_2 block 0
/// keystream; the payload is encrypted with K_2 from block 1; the tag covers the encrypted length and body.
/// <para>
/// Block 0 (Poly1305 key, length key) and Poly1305 come from BouncyCastle's span APIs. The bulk of the work,
/// the K_2 keystream from block 1, comes from .NET's OpenSSL-backed ChaCha20Poly1305 when available: with the
/// IETF nonce 0^4 || uint64 seq its ciphertext of a plaintext is that plaintext XOR exactly this keystream
/// (its own tag is a different construction and is discarded). The packet is sealed and opened in place:
/// no copy of the packet and no allocation proportional to it. Otherwise BouncyCastle's managed ChaCha20.
/// </para>
/// One instance protects one direction and is used by one thread at a time (like every <see cref="IPacketCipher"/>):
/// the engines and the Poly1305 state are reused from packet to packet.
/// </summary>
internal sealed class ChaCha20Poly1305Cipher : IPacketCipher
{
    public const string Name = "chacha20-poly1305@openssh.com";
    public const int KeyLength = 64;
    private const int PolyKeyLength = 32;

    // Keyed once; each packet re-initialises them with the sequence number only (a null key reuses the key).
    private readonly ChaChaEngine _main = new(20);
    private readonly ChaChaEngine _header = new(20);
    private readonly Poly1305 _poly1305 = new();
    private readonly System.Security.Cryptography.ChaCha20Poly1305? _bulk;

    public ChaCha20Poly1305Cipher(ReadOnlySpan<byte> key)
        : this(key, System.Security.Cryptography.ChaCha20Poly1305.IsSupported)
    {
    }

    /// <param name="key">K_2 || K_1.</param>
    /// <param name="useNativeKeystream">Draw the bulk keystream from .NET (OpenSSL); false forces BouncyCastle (tests compare both).</param>
    internal ChaCha20Poly1305Cipher(ReadOnlySpan<byte> key, bool useNativeKeystream)
    {
        if (key.Length != KeyLength)
            throw new ArgumentException("chacha20-poly1305 needs a 64-byte key", nameof(key));
        Span<byte> nonce = stackalloc byte[8];
        nonce.Clear();
        _main.Init(true, new ParametersWithIV(new KeyParameter(key[..32]), nonce));
        _header.Init(true, new ParametersWithIV(new KeyParameter(key[32..]), nonce));
        if (useNativeKeystream)
            _bulk = new System.Security.Cryptography.ChaCha20Poly1305(key[..32]);
    }

    internal bool UsesNativeKeystream => _bulk is not null;

    public int BlockSize => 8;
    public int TagLength => 16;
    public bool LengthIsAligned => false;

    // PROTOCOL.chacha20poly1305: the 64-bit nonce is the sequence number, block counter from 0.
    private static void Position(ChaChaEngine engine, uint sequence)
    {
        Span<byte> nonce = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(nonce, sequence);
        engine.Init(true, new ParametersWithIV(null, nonce));
    }

    public uint DecryptLength(uint sequence, ReadOnlySpan<byte> first4)
    {
        if (first4.Length < 4)
            throw new ArgumentException("the encrypted length is 4 bytes", nameof(first4));
        Position(_header, sequence);
        Span<byte> plain = stackalloc byte[4];
        _header.ProcessBytes(first4[..4], plain);
        return BinaryPrimitives.ReadUInt32BigEndian(plain);
    }

    // Runs K_2 block 0 into the Poly1305 key, leaving the managed engine positioned at block 1, and keys Poly1305.
    private void StartPacket(uint sequence)
    {
        Position(_main, sequence);
        Span<byte> block0 = stackalloc byte[64];
        block0.Clear();
        _main.ProcessBytes(block0, block0);
        _poly1305.Init(new KeyParameter(block0[..PolyKeyLength]));
        CryptographicOperations.ZeroMemory(block0);
    }

    // XORs the K_2 keystream from block 1 into the body, in place.
    private void CryptBody(uint sequence, Span<byte> body)
    {
        if (_bulk is null)
        {
            _main.ProcessBytes(body, body);
            return;
        }
        Span<byte> nonce = stackalloc byte[12];
        nonce.Clear();
        BinaryPrimitives.WriteUInt64BigEndian(nonce[4..], sequence);
        Span<byte> discardedTag = stackalloc byte[16];
        _bulk.Encrypt(nonce, body, body, discardedTag);
    }

    public void Seal(uint sequence, Span<byte> packet, Span<byte> tag)
    {
        Position(_header, sequence);
        _header.ProcessBytes(packet[..4], packet[..4]);
        StartPacket(sequence);
        CryptBody(sequence, packet[4..]);
        _poly1305.BlockUpdate(packet);
        _poly1305.DoFinal(tag);
    }

    public void Open(uint sequence, Span<byte> packet, ReadOnlySpan<byte> tag)
    {
        StartPacket(sequence);
        _poly1305.BlockUpdate(packet);
        Span<byte> expected = stackalloc byte[16];
        _poly1305.DoFinal(expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, tag))
            throw new SshProtocolException(SshDisconnectReason.MacError, "Corrupted MAC on input");
        // The length field stays as received; callers already decrypted it with DecryptLength.
        CryptBody(sequence, packet[4..]);
    }

    public void Dispose() => _bulk?.Dispose();
}
