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
/// Block 0 (Poly1305 key, length key) and Poly1305 come from BouncyCastle. The bulk keystream (K_2 from
/// block 1) comes from .NET's OpenSSL-backed ChaCha20Poly1305 when available: encrypting zeros with the
/// IETF nonce 0^4 || uint64 seq yields exactly that keystream (DESIGN.md fast path); otherwise from
/// BouncyCastle's managed ChaCha20 (~190 MiB/s).
/// </summary>
internal sealed class ChaCha20Poly1305Cipher : IPacketCipher
{
    public const string Name = "chacha20-poly1305@openssh.com";
    public const int KeyLength = 64;

    private readonly KeyParameter _mainKey;
    private readonly KeyParameter _headerKey;
    private readonly System.Security.Cryptography.ChaCha20Poly1305? _bulk;
    private byte[] _zeros = [];

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
        _mainKey = new KeyParameter(key[..32].ToArray());
        _headerKey = new KeyParameter(key[32..].ToArray());
        if (useNativeKeystream)
            _bulk = new System.Security.Cryptography.ChaCha20Poly1305(key[..32]);
    }

    internal bool UsesNativeKeystream => _bulk is not null;

    // XORs the K_2 keystream from block 1 into data, natively when possible.
    private void CryptBody(ChaChaEngine engine, uint sequence, byte[] buf)
    {
        var length = buf.Length - 4;
        if (_bulk is null)
        {
            engine.ProcessBytes(buf, 4, length, buf, 4);
            return;
        }
        if (_zeros.Length < length)
            _zeros = new byte[length];
        Span<byte> nonce = stackalloc byte[12];
        nonce.Clear();
        BinaryPrimitives.WriteUInt64BigEndian(nonce[4..], sequence);
        var keystream = new byte[length];
        Span<byte> unusedTag = stackalloc byte[16];
        _bulk.Encrypt(nonce, _zeros.AsSpan(0, length), keystream, unusedTag);
        var body = buf.AsSpan(4);
        var i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            var width = System.Numerics.Vector<byte>.Count;
            for (; i + width <= length; i += width)
                (new System.Numerics.Vector<byte>(body[i..]) ^ new System.Numerics.Vector<byte>(keystream, i)).CopyTo(body[i..]);
        }
        for (; i < length; i++)
            body[i] ^= keystream[i];
        CryptographicOperations.ZeroMemory(keystream);
    }

    public int BlockSize => 8;
    public int TagLength => 16;
    public bool LengthIsAligned => false;

    private static ChaChaEngine Engine(KeyParameter key, uint sequence)
    {
        var nonce = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(nonce, sequence);
        var engine = new ChaChaEngine(20);
        engine.Init(true, new ParametersWithIV(key, nonce));
        return engine;
    }

    public uint DecryptLength(uint sequence, ReadOnlySpan<byte> first4)
    {
        var engine = Engine(_headerKey, sequence);
        var plain = new byte[4];
        engine.ProcessBytes(first4.ToArray(), 0, 4, plain, 0);
        return BinaryPrimitives.ReadUInt32BigEndian(plain);
    }

    // Returns the main-key engine positioned at block 1 and the Poly1305 key from block 0.
    private (ChaChaEngine Engine, byte[] PolyKey) MainEngine(uint sequence)
    {
        var engine = Engine(_mainKey, sequence);
        var block0 = new byte[64];
        engine.ProcessBytes(new byte[64], 0, 64, block0, 0);
        var polyKey = block0.AsSpan(0, 32).ToArray();
        CryptographicOperations.ZeroMemory(block0);
        return (engine, polyKey);
    }

    private static byte[] Poly1305Tag(byte[] polyKey, byte[] data)
    {
        var mac = new Poly1305();
        mac.Init(new KeyParameter(polyKey));
        mac.BlockUpdate(data, 0, data.Length);
        var tag = new byte[16];
        mac.DoFinal(tag, 0);
        return tag;
    }

    public void Seal(uint sequence, Span<byte> packet, Span<byte> tag)
    {
        var buf = packet.ToArray();
        Engine(_headerKey, sequence).ProcessBytes(buf, 0, 4, buf, 0);
        var (engine, polyKey) = MainEngine(sequence);
        CryptBody(engine, sequence, buf);
        Poly1305Tag(polyKey, buf).CopyTo(tag);
        CryptographicOperations.ZeroMemory(polyKey);
        buf.CopyTo(packet);
    }

    public void Open(uint sequence, Span<byte> packet, ReadOnlySpan<byte> tag)
    {
        var buf = packet.ToArray();
        var (engine, polyKey) = MainEngine(sequence);
        var expected = Poly1305Tag(polyKey, buf);
        CryptographicOperations.ZeroMemory(polyKey);
        if (!CryptographicOperations.FixedTimeEquals(expected, tag))
            throw new SshProtocolException(SshDisconnectReason.MacError, "Corrupted MAC on input");
        // The length field stays as received; callers already decrypted it with DecryptLength.
        CryptBody(engine, sequence, buf);
        buf.AsSpan(4).CopyTo(packet[4..]);
    }

    public void Dispose() => _bulk?.Dispose();
}
