using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Onboarding.Ssh.Transport;

/// <summary>
/// RFC 4253 §4.2 identification lines and §6 binary packets over a stream, with per-direction ciphers
/// and sequence numbers. Not thread-safe: one reader and one (locked) writer at a time.
/// </summary>
internal sealed class BinaryPacketStream
{
    /// <summary>Our bound on packet_length (OpenSSH uses 256 KiB as well).</summary>
    public const int MaxPacketLength = 256 * 1024;

    /// <summary>RFC 4253 §4.2: the identification line is at most 255 characters including CR LF.</summary>
    public const int MaxLineLength = 255;

    /// <summary>
    /// Bound on a line before the server's identification (RFC 4253 §4.2 sets none): Juniper's DEVICE-CONN-INFO
    /// carries a whole public key (HOST-KEY) on one line.
    /// </summary>
    public const int MaxPreBannerLineLength = 2048;

    /// <summary>How much one read from the stream may take in; rented only while a read needs it.</summary>
    public const int ReadBufferSize = 64 * 1024;

    private readonly Stream _stream;

    // Rented from the shared pool while it holds unread bytes (or a read is filling it), returned once drained: an idle
    // session (thousands of call-home sessions wait for the next keepalive) holds no read buffer at all, where a
    // 64 KiB array for the connection's life was most of its memory.
    private byte[]? _readBuffer;
    private int _readStart;
    private int _readEnd;

    // The last read filled the whole buffer: more is very likely waiting (a bulk transfer), so the next fill reads at
    // once into the buffer it keeps instead of waiting for data first.
    private bool _lastFillWasFull;

    public BinaryPacketStream(Stream stream) => _stream = stream;

    public IPacketCipher ReadCipher { get; set; } = NoneCipher.Instance;
    public IPacketCipher WriteCipher { get; set; } = NoneCipher.Instance;

    // RFC 4253 §6.4: sequence numbers are uint32 and wrap at 2^32.
    public uint ReadSequence { get; set; }
    public uint WriteSequence { get; set; }

    /// <summary>Whether a read buffer is rented now (for tests: an idle reader, waiting for the next packet, holds none).</summary>
    public bool HoldsReadBuffer => _readBuffer is not null;

    public long BytesReadSinceKex { get; set; }
    public long BytesWrittenSinceKex { get; set; }

    /// <summary>
    /// Reads more into the read buffer; called only when it is drained. Unless the last read filled it, the buffer goes
    /// back to the pool first and a zero-byte read waits for data (NetworkStream and SslStream complete it when bytes
    /// arrive, without a buffer pinned meanwhile); only then is a buffer rented for the real read. A stream that completes
    /// a zero-byte read at once just costs the extra call. Nothing but this reader touches the buffer, so returning it
    /// here cannot race a pending read.
    /// </summary>
    private async ValueTask<bool> FillAsync(CancellationToken ct)
    {
        _readStart = _readEnd = 0;
        if (!_lastFillWasFull)
        {
            ReturnReadBuffer();
            await _stream.ReadAsync(Memory<byte>.Empty, ct).ConfigureAwait(false);
        }
        _readBuffer ??= ArrayPool<byte>.Shared.Rent(ReadBufferSize);
        var n = await _stream.ReadAsync(_readBuffer, ct).ConfigureAwait(false);
        _readEnd = n;
        _lastFillWasFull = n == _readBuffer.Length;
        return n > 0;
    }

    private void ReturnReadBuffer()
    {
        if (_readBuffer is null)
            return;
        // Bytes before the first NEWKEYS are plaintext (KEXINIT, ECDH values: nothing secret), later ones ciphertext;
        // decrypted packets are never in this buffer, so it needs no clearing.
        ArrayPool<byte>.Shared.Return(_readBuffer);
        _readBuffer = null;
    }

    private async ValueTask ReadExactlyAsync(Memory<byte> destination, CancellationToken ct)
    {
        var done = 0;
        while (done < destination.Length)
        {
            if (_readEnd == _readStart && !await FillAsync(ct).ConfigureAwait(false))
                throw new SshConnectionLostException("Connection closed by peer");
            var n = Math.Min(destination.Length - done, _readEnd - _readStart);
            _readBuffer!.AsSpan(_readStart, n).CopyTo(destination.Span[done..]);
            _readStart += n;
            done += n;
        }
    }

    /// <summary>
    /// Reads one line terminated by LF (CR LF expected), bounded by <see cref="MaxPreBannerLineLength"/>; the
    /// caller holds the identification string to <see cref="MaxLineLength"/> and refuses a NUL in it.
    /// </summary>
    public async ValueTask<string> ReadLineAsync(CancellationToken ct)
    {
        var line = new List<byte>(64);
        while (true)
        {
            if (_readEnd == _readStart && !await FillAsync(ct).ConfigureAwait(false))
                throw new SshConnectionLostException("Connection closed during version exchange");
            var b = _readBuffer![_readStart++];
            if (b == (byte)'\n')
                break;
            line.Add(b);
            if (line.Count > MaxPreBannerLineLength)
                throw new SshProtocolException(SshDisconnectReason.ProtocolError, "Identification line too long");
        }
        if (line.Count > 0 && line[^1] == (byte)'\r')
            line.RemoveAt(line.Count - 1);
        return Encoding.UTF8.GetString(line.ToArray());
    }

    public async ValueTask WriteLineAsync(string line, CancellationToken ct)
    {
        await _stream.WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n"), ct).ConfigureAwait(false);
        await _stream.FlushAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Reads, authenticates and decrypts one packet; returns its payload.</summary>
    public async ValueTask<byte[]> ReadPacketAsync(CancellationToken ct)
    {
        var cipher = ReadCipher;
        var head = new byte[4];
        await ReadExactlyAsync(head, ct).ConfigureAwait(false);
        var sequence = ReadSequence;
        var length = cipher.DecryptLength(sequence, head);
        var aligned = cipher.LengthIsAligned ? length + 4 : length;
        if (length < 5 || length > MaxPacketLength || aligned % (uint)cipher.BlockSize != 0)
            throw new SshProtocolException(SshDisconnectReason.ProtocolError, $"Bad packet length {length}");
        var packet = new byte[4 + length + cipher.TagLength];
        head.CopyTo(packet, 0);
        await ReadExactlyAsync(packet.AsMemory(4), ct).ConfigureAwait(false);
        var body = packet.AsSpan(0, 4 + (int)length);
        cipher.Open(sequence, body, packet.AsSpan(4 + (int)length));
        ReadSequence = unchecked(sequence + 1);
        BytesReadSinceKex += packet.Length;
        var padding = packet[4];
        if (padding < 4 || padding > length - 2)
            throw new SshProtocolException(SshDisconnectReason.ProtocolError, "Bad padding length");
        var payload = packet.AsSpan(5, (int)length - padding - 1).ToArray();
        CryptographicOperations.ZeroMemory(packet);
        return payload;
    }

    /// <summary>Frames, pads, protects and writes one packet. The caller serialises writers.</summary>
    public async ValueTask WritePacketAsync(ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        var packet = BuildPacket(WriteCipher, WriteSequence, payload.Span);
        WriteSequence = unchecked(WriteSequence + 1);
        BytesWrittenSinceKex += packet.Length;
        await _stream.WriteAsync(packet, ct).ConfigureAwait(false);
        await _stream.FlushAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Seals the next packet with the current write cipher and sequence number (caller serialises).</summary>
    public byte[] SealNext(ReadOnlySpan<byte> payload)
    {
        var packet = BuildPacket(WriteCipher, WriteSequence, payload);
        WriteSequence = unchecked(WriteSequence + 1);
        BytesWrittenSinceKex += packet.Length;
        return packet;
    }

    /// <summary>RFC 4253 §6: at least 4 bytes of random padding, total aligned to the cipher block size.</summary>
    internal static byte[] BuildPacket(IPacketCipher cipher, uint sequence, ReadOnlySpan<byte> payload)
    {
        if (payload.Length == 0 || payload.Length > MaxPacketLength - 64)
            throw new ArgumentOutOfRangeException(nameof(payload), "Payload size out of range");
        var bs = cipher.BlockSize;
        var unaligned = (cipher.LengthIsAligned ? 4 : 0) + 1 + payload.Length;
        var padding = bs - (unaligned % bs);
        if (padding < 4)
            padding += bs;
        var length = 1 + payload.Length + padding;
        var packet = new byte[4 + length + cipher.TagLength];
        BinaryPrimitives.WriteUInt32BigEndian(packet, (uint)length);
        packet[4] = (byte)padding;
        payload.CopyTo(packet.AsSpan(5));
        RandomNumberGenerator.Fill(packet.AsSpan(5 + payload.Length, padding));
        cipher.Seal(sequence, packet.AsSpan(0, 4 + length), packet.AsSpan(4 + length));
        return packet;
    }
}
