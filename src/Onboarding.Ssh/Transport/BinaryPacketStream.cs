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

    private readonly Stream _stream;
    private readonly byte[] _readBuffer = new byte[64 * 1024];
    private int _readStart;
    private int _readEnd;

    public BinaryPacketStream(Stream stream) => _stream = stream;

    public IPacketCipher ReadCipher { get; set; } = NoneCipher.Instance;
    public IPacketCipher WriteCipher { get; set; } = NoneCipher.Instance;

    // RFC 4253 §6.4: sequence numbers are uint32 and wrap at 2^32.
    public uint ReadSequence { get; set; }
    public uint WriteSequence { get; set; }

    public long BytesReadSinceKex { get; set; }
    public long BytesWrittenSinceKex { get; set; }

    private async ValueTask<bool> FillAsync(CancellationToken ct)
    {
        if (_readStart > 0)
        {
            Buffer.BlockCopy(_readBuffer, _readStart, _readBuffer, 0, _readEnd - _readStart);
            _readEnd -= _readStart;
            _readStart = 0;
        }
        var n = await _stream.ReadAsync(_readBuffer.AsMemory(_readEnd), ct).ConfigureAwait(false);
        _readEnd += n;
        return n > 0;
    }

    private async ValueTask ReadExactlyAsync(Memory<byte> destination, CancellationToken ct)
    {
        var done = 0;
        while (done < destination.Length)
        {
            if (_readEnd == _readStart && !await FillAsync(ct).ConfigureAwait(false))
                throw new SshConnectionLostException("Connection closed by peer");
            var n = Math.Min(destination.Length - done, _readEnd - _readStart);
            _readBuffer.AsSpan(_readStart, n).CopyTo(destination.Span[done..]);
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
            var b = _readBuffer[_readStart++];
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
