using System.Buffers.Binary;
using System.Security.Cryptography;
using Onboarding.Ssh.KeyExchange;
using Onboarding.Ssh.Transport;
using Onboarding.Ssh.Wire;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Macs;
using Org.BouncyCastle.Crypto.Parameters;

namespace Onboarding.Ssh.Tests;

public class GoldenTests
{
    [Fact]
    public void X25519_matches_rfc7748_section_6_1()
    {
        var alicePrivate = Convert.FromHexString("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        var bobPrivate = Convert.FromHexString("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
        using var alice = new Curve25519Exchange(alicePrivate);
        using var bob = new Curve25519Exchange(bobPrivate);
        Assert.Equal("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", Convert.ToHexStringLower(alice.PublicValue));
        Assert.Equal("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", Convert.ToHexStringLower(bob.PublicValue));
        const string shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
        Assert.Equal(shared, Convert.ToHexStringLower(alice.Agree(bob.PublicValue)));
        Assert.Equal(shared, Convert.ToHexStringLower(bob.Agree(alice.PublicValue)));
    }

    [Fact]
    public void X25519_refuses_low_order_points_that_give_a_zero_secret()
    {
        using var ex = new Curve25519Exchange();
        var e = Assert.Throws<SshProtocolException>(() => ex.Agree(new byte[32]));
        Assert.Equal(SshDisconnectReason.KeyExchangeFailed, e.Reason);
    }

    [Theory]
    [InlineData(SshAlgorithms.DhGroup14Sha256)]
    [InlineData(SshAlgorithms.DhGroup16Sha512)]
    [InlineData(SshAlgorithms.EcdhNistp256)]
    public void Invalid_peer_public_values_fail_the_key_exchange(string kex)
    {
        using var method = KeyExchangeMethod.Create(kex);
        byte[] notOnCurve = [0x04, .. new byte[63], 1];
        byte[] tooLarge = Enumerable.Repeat((byte)0xff, kex == SshAlgorithms.DhGroup14Sha256 ? 256 : 512).ToArray();
        var invalid = kex == SshAlgorithms.EcdhNistp256
            ? new List<byte[]> { new byte[65], notOnCurve, new byte[33] }
            : new List<byte[]> { new byte[] { 1 }, new byte[] { 0 }, tooLarge };
        foreach (var value in invalid)
        {
            var e = Assert.Throws<SshProtocolException>(() => method.Agree(value));
            Assert.Equal(SshDisconnectReason.KeyExchangeFailed, e.Reason);
        }
        // Two honest parties agree.
        using var peer = KeyExchangeMethod.Create(kex);
        Assert.Equal(method.Agree(peer.PublicValue), peer.Agree(method.PublicValue));
    }

    [Fact]
    public void Mpint_encoding_follows_rfc4251_examples()
    {
        // RFC 4251 §5 examples.
        static string Enc(string hex)
        {
            using var w = new SshWriter();
            w.WriteMpintUnsigned(Convert.FromHexString(hex));
            return Convert.ToHexStringLower(w.WrittenSpan);
        }
        Assert.Equal("00000000", Enc(""));
        Assert.Equal("00000008 09a378f9b2e332a7".Replace(" ", "", StringComparison.Ordinal), Enc("09a378f9b2e332a7"));
        Assert.Equal("000000020080", Enc("80"));
        Assert.Equal("000000020080", Enc("0080"));
        var r = new SshReader(Convert.FromHexString("000000020080"));
        Assert.Equal("80", Convert.ToHexStringLower(r.ReadMpintUnsigned()));
        var neg = new SshReader(Convert.FromHexString("00000002edcc"));
        try
        {
            neg.ReadMpintUnsigned();
            Assert.Fail("negative mpint accepted");
        }
        catch (SshProtocolException)
        {
        }
    }

    [Fact]
    public void Reader_rejects_truncated_and_oversized_fields_with_protocol_errors()
    {
        Assert.Throws<SshProtocolException>(() => new SshReader([0, 0, 0, 5, 1, 2]).ReadString().ToArray());
        Assert.Throws<SshProtocolException>(() => new SshReader([0, 0]).ReadUInt32());
        Assert.Throws<SshProtocolException>(() => new SshReader([0x7f, 0xff, 0xff, 0xff]).ReadString().ToArray());
        Assert.Throws<SshProtocolException>(() => new SshReader([0, 0, 0, 3, (byte)'a', (byte)',', (byte)',']).ReadNameList());
        Assert.Throws<SshProtocolException>(() => new SshReader([0, 0, 0, 1, 0x07]).ReadAscii());
        Assert.Throws<SshProtocolException>(() => new SshReader([0, 0, 0, 1, 0xff]).ReadUtf8());
        Assert.Throws<SshProtocolException>(() => new SshReader([1, 2]).ReadBytes(-1).ToArray());
        Assert.Throws<SshProtocolException>(() => new SshReader([1]).EnsureEnd());
        Assert.Equal(["a", "b"], new SshReader([0, 0, 0, 3, (byte)'a', (byte)',', (byte)'b']).ReadNameList());
    }

    /// <summary>
    /// OpenSSH PROTOCOL.chacha20poly1305 construction, checked against an independent derivation:
    /// BouncyCastle's RFC 7539 engine (nonce 0^4 || seq) for block 0, and .NET's (OpenSSL) ChaCha20-Poly1305
    /// AEAD, whose ciphertext of zeros is the keystream from block 1.
    /// </summary>
    [Fact]
    public void ChaCha20Poly1305_packet_matches_openssh_construction()
    {
        var key = new byte[64];
        for (var i = 0; i < key.Length; i++)
            key[i] = (byte)i;
        const uint seq = 7;
        byte[] payload = [94, 0, 0, 0, 1, 0, 0, 0, 3, (byte)'a', (byte)'b', (byte)'c'];
        using var cipher = new ChaCha20Poly1305Cipher(key, useNativeKeystream: false);
        var packet = BinaryPacketStream.BuildPacket(cipher, seq, payload);
        var length = packet.Length - 4 - 16;
        Assert.Equal(0, length % 8);

        var nonce = new byte[12];
        BinaryPrimitives.WriteUInt64BigEndian(nonce.AsSpan(4), seq);
        static byte[] Block0(byte[] k, byte[] n)
        {
            var engine = new ChaCha7539Engine();
            engine.Init(true, new ParametersWithIV(new KeyParameter(k), n));
            var block = new byte[64];
            engine.ProcessBytes(new byte[64], 0, 64, block, 0);
            return block;
        }
        var headerStream = Block0(key[32..], nonce);
        var mainBlock0 = Block0(key[..32], nonce);

        // Length: XOR with K_1 (header key) keystream block 0.
        var plainLength = new byte[4];
        for (var i = 0; i < 4; i++)
            plainLength[i] = (byte)(packet[i] ^ headerStream[i]);
        Assert.Equal((uint)length, BinaryPrimitives.ReadUInt32BigEndian(plainLength));

        // Body: K_2 keystream from block 1 (from .NET's OpenSSL ChaCha20).
        using var aead = new System.Security.Cryptography.ChaCha20Poly1305(key[..32]);
        var keystream = new byte[length];
        aead.Encrypt(nonce, new byte[length], keystream, new byte[16]);
        var body = new byte[length];
        for (var i = 0; i < length; i++)
            body[i] = (byte)(packet[4 + i] ^ keystream[i]);
        Assert.Equal(payload, body.AsSpan(1, payload.Length).ToArray());
        Assert.Equal(length - payload.Length - 1, body[0]);

        // Tag: Poly1305 keyed by the first 32 bytes of K_2 block 0, over encrypted length || ciphertext.
        var mac = new Poly1305();
        mac.Init(new KeyParameter(mainBlock0[..32]));
        mac.BlockUpdate(packet, 0, 4 + length);
        var tag = new byte[16];
        mac.DoFinal(tag, 0);
        Assert.Equal(tag, packet[(4 + length)..]);

        // And our Open accepts it, and rejects a flipped bit as a MAC error.
        using var reader = new ChaCha20Poly1305Cipher(key);
        Assert.Equal((uint)length, reader.DecryptLength(seq, packet.AsSpan(0, 4)));
        var copy = packet.ToArray();
        copy[10] ^= 1;
        var e = Assert.Throws<SshProtocolException>(() => reader.Open(seq, copy.AsSpan(0, 4 + length), copy.AsSpan(4 + length)));
        Assert.Equal(SshDisconnectReason.MacError, e.Reason);
        reader.Open(seq, packet.AsSpan(0, 4 + length), packet.AsSpan(4 + length));
        Assert.Equal(payload, packet.AsSpan(5, payload.Length).ToArray());
    }

    [Fact]
    public void ChaCha20Poly1305_native_keystream_path_equals_the_bouncycastle_path()
    {
        var key = RandomNumberGenerator.GetBytes(64);
        using var managed = new ChaCha20Poly1305Cipher(key, useNativeKeystream: false);
        using var native = new ChaCha20Poly1305Cipher(key, useNativeKeystream: true);
        Assert.True(native.UsesNativeKeystream);
        var random = new Random(8439);
        foreach (var seq in new uint[] { 0, 1, 2, 77, uint.MaxValue })
        {
            var payload = new byte[random.Next(1, 40000)];
            random.NextBytes(payload);
            var fromManaged = BinaryPacketStream.BuildPacket(managed, seq, payload);
            var length = fromManaged.Length - 16;
            // Same input (including the padding) through the native path must give identical bytes.
            var plain = fromManaged.ToArray();
            managed.Open(seq, plain.AsSpan(0, length), plain.AsSpan(length));
            var again = plain.AsSpan(0, length).ToArray();
            again.AsSpan(0, 4).Clear();
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(again, (uint)(length - 4));
            var tag = new byte[16];
            native.Seal(seq, again, tag);
            Assert.Equal(fromManaged.AsSpan(0, length).ToArray(), again);
            Assert.Equal(fromManaged.AsSpan(length).ToArray(), tag);
            native.Open(seq, again, tag);
            Assert.Equal(payload, again.AsSpan(5, payload.Length).ToArray());
        }
    }

    /// <summary>RFC 5647 §7: cleartext length as AAD, nonce = fixed(4) || invocation counter(8), incremented per packet.</summary>
    [Fact]
    public void AesGcm_packet_layout_follows_rfc5647()
    {
        var key = Convert.FromHexString("000102030405060708090a0b0c0d0e0f");
        var iv = Convert.FromHexString("a0a1a2a3b0b1b2b3b4b5b6fe");
        using var cipher = new AesGcmCipher(key, iv);
        byte[] payload = [2, 0, 0, 0, 0];
        var first = BinaryPacketStream.BuildPacket(cipher, 0, payload);
        var second = BinaryPacketStream.BuildPacket(cipher, 1, payload);
        foreach (var (packet, counter) in new[] { (first, 0xb4b5b6feUL), (second, 0xb4b5b6ffUL) })
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(packet);
            Assert.Equal(packet.Length - 4 - 16, length);
            Assert.Equal(0, length % 16);
            var nonce = iv.ToArray();
            BinaryPrimitives.WriteUInt64BigEndian(nonce.AsSpan(4), 0xb0b1b2b3_00000000UL | counter);
            using var gcm = new AesGcm(key, 16);
            var plain = new byte[length];
            gcm.Decrypt(nonce, packet.AsSpan(4, length), packet.AsSpan(4 + length), plain, packet.AsSpan(0, 4));
            Assert.Equal(payload, plain.AsSpan(1, payload.Length).ToArray());
            Assert.True(plain[0] >= 4);
        }
    }

    [Fact]
    public void AesCtr_etm_mac_covers_sequence_length_and_ciphertext()
    {
        var key = new byte[16];
        var iv = new byte[16];
        var macKey = new byte[32];
        macKey[0] = 1;
        using var cipher = new AesCtrEtmCipher(key, iv, SshAlgorithms.HmacSha256Etm, macKey);
        var packet = BinaryPacketStream.BuildPacket(cipher, 5, [2, 1, 2, 3]);
        var length = packet.Length - 32;
        var seq = new byte[] { 0, 0, 0, 5 };
        var expected = HMACSHA256.HashData(macKey, (byte[])[.. seq, .. packet.AsSpan(0, length)]);
        Assert.Equal(expected, packet[length..]);
        // CTR block 0 with a zero key and counter: AES-128(0^16) = 66e94bd4ef8a2c3b884cfa59ca342b2e.
        var ks0 = Convert.FromHexString("66e94bd4ef8a2c3b884cfa59ca342b2e");
        Assert.Equal(2, packet[4 + 1] ^ ks0[1]);
    }

    [Fact]
    public async Task Packet_stream_rejects_bad_lengths_and_corrupt_macs()
    {
        // packet_length above 256 KiB.
        var huge = new MemoryStream([0x00, 0x10, 0x00, 0x00, 4, 0, 0, 0]);
        var e1 = await Assert.ThrowsAsync<SshProtocolException>(async () => await new BinaryPacketStream(huge).ReadPacketAsync(default));
        Assert.Equal(SshDisconnectReason.ProtocolError, e1.Reason);
        // padding_length < 4.
        var badPad = new MemoryStream([0, 0, 0, 12, 2, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        await Assert.ThrowsAsync<SshProtocolException>(async () => await new BinaryPacketStream(badPad).ReadPacketAsync(default));
        // Truncated stream: the connection is lost, not an index error.
        var truncated = new MemoryStream([0, 0, 0, 12, 4]);
        await Assert.ThrowsAsync<SshConnectionLostException>(async () => await new BinaryPacketStream(truncated).ReadPacketAsync(default));
        // Corrupt GCM tag.
        var key = new byte[32];
        var iv = new byte[12];
        using var writer = new AesGcmCipher(key, iv);
        var packet = BinaryPacketStream.BuildPacket(writer, 0, [2, 0, 0, 0, 0]);
        packet[^1] ^= 0x80;
        var stream = new BinaryPacketStream(new MemoryStream(packet)) { ReadCipher = new AesGcmCipher(key, iv) };
        var e2 = await Assert.ThrowsAsync<SshProtocolException>(async () => await stream.ReadPacketAsync(default));
        Assert.Equal(SshDisconnectReason.MacError, e2.Reason);
    }

    [Fact]
    public async Task Sequence_numbers_wrap_at_2_pow_32()
    {
        var ms = new MemoryStream();
        var s = new BinaryPacketStream(ms) { WriteSequence = uint.MaxValue };
        await s.WritePacketAsync(new byte[] { 2 }, default);
        Assert.Equal(0u, s.WriteSequence);
    }

    [Fact]
    public void Kexinit_round_trips_and_rejects_trailing_garbage()
    {
        var m = new KexInitMessage
        {
            KexAlgorithms = ["curve25519-sha256", "kex-strict-c-v00@openssh.com"],
            ServerHostKeyAlgorithms = ["ssh-ed25519"],
            EncryptionClientToServer = ["aes128-gcm@openssh.com"],
            EncryptionServerToClient = ["aes128-gcm@openssh.com"],
            MacClientToServer = ["hmac-sha2-256-etm@openssh.com"],
            MacServerToClient = ["hmac-sha2-256-etm@openssh.com"],
        };
        using var w = new SshWriter();
        m.Write(w);
        var r = new SshReader(w.WrittenSpan);
        var back = KexInitMessage.Read(ref r);
        Assert.Equal(m.KexAlgorithms, back.KexAlgorithms);
        Assert.Equal(["none"], back.CompressionClientToServer);
        var bytes = w.ToArray();
        var withGarbage = new byte[bytes.Length + 1];
        bytes.CopyTo(withGarbage, 0);
        try
        {
            var r2 = new SshReader(withGarbage);
            KexInitMessage.Read(ref r2);
            Assert.Fail("trailing byte accepted");
        }
        catch (SshProtocolException)
        {
        }
    }
}
