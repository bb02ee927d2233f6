using Onboarding.Ssh.Keys;
using Onboarding.Ssh.Transport;

namespace Onboarding.Ssh.Tests;

/// <summary>
/// The packet reader rents its read buffer only while it holds unread bytes: an idle session (the NMS holds thousands of
/// call-home sessions that only see a keepalive now and then) keeps no 64 KiB array. Packets must still arrive whole
/// however the stream splits or coalesces them, also from a stream that completes a zero-byte read at once.
/// </summary>
public class ReadBufferTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task An_idle_reader_holds_no_read_buffer_and_rents_one_when_data_comes()
    {
        using var key = SshHostKey.GenerateEd25519();
        var (c, s) = await LoopbackPair.CreateAsync();
        await using var client = new SshTransport(c, TransportPairTests.Client(SshAlgorithms.Curve25519Sha256, SshAlgorithms.Aes128Gcm));
        await using var server = new SshTransport(s, TransportPairTests.Server(key, SshAlgorithms.Curve25519Sha256, SshAlgorithms.Aes128Gcm));
        await Task.WhenAll(client.StartAsync(default), server.StartAsync(default)).WaitAsync(Patience);

        for (var round = 0; round < 3; round++)
        {
            // The server waits for a packet that has not been sent: it must not keep a buffer meanwhile.
            var pending = server.ReceiveAsync(default).AsTask();
            await WaitUntilAsync(() => !server.Packets.HoldsReadBuffer);
            Assert.False(pending.IsCompleted);

            var payload = new byte[] { 50, (byte)round, 2, 3 };
            await client.SendAsync(payload, default);
            Assert.Equal(payload, await pending.WaitAsync(Patience));
        }

        // The client too, once the server's answer has been read.
        await server.SendAsync(new byte[] { 51, 9 }, default);
        Assert.Equal(new byte[] { 51, 9 }, await client.ReceiveAsync(default).AsTask().WaitAsync(Patience));
        var clientPending = client.ReceiveAsync(default).AsTask();
        await WaitUntilAsync(() => !client.Packets.HoldsReadBuffer);
        Assert.False(clientPending.IsCompleted);
    }

    [Theory]
    [InlineData(7)]          // every packet split over many reads
    [InlineData(1 << 20)]    // reads as large as the stream offers: several packets per read, full buffers in a burst
    public async Task Packets_arrive_whole_over_a_stream_that_completes_zero_byte_reads_at_once(int maxRead)
    {
        using var key = SshHostKey.GenerateEd25519();
        var (c, s) = await LoopbackPair.CreateAsync();
        await using var client = new SshTransport(c, TransportPairTests.Client(SshAlgorithms.Curve25519Sha256, SshAlgorithms.ChaCha20Poly1305));
        await using var server = new SshTransport(new EagerZeroByteReads(s, maxRead),
            TransportPairTests.Server(key, SshAlgorithms.Curve25519Sha256, SshAlgorithms.ChaCha20Poly1305));
        await Task.WhenAll(client.StartAsync(default), server.StartAsync(default)).WaitAsync(Patience);

        // Sizes around and beyond the 64 KiB read buffer, sent back to back so a large read holds several.
        int[] sizes = [1, 100, 65_000, 65_536, 70_000, 200_000, 5, 131_072, 3];
        var payloads = sizes.Select((size, i) =>
        {
            var p = new byte[size];
            Random.Shared.NextBytes(p);
            p[0] = (byte)(50 + i);
            return p;
        }).ToArray();
        var sending = Task.Run(async () =>
        {
            foreach (var p in payloads)
                await client.SendAsync(p, default);
        });
        foreach (var expected in payloads)
            Assert.Equal(expected, await server.ReceiveAsync(default).AsTask().WaitAsync(Patience));
        await sending.WaitAsync(Patience);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var deadline = new CancellationTokenSource(Patience);
        while (!condition())
            await Task.Delay(10, deadline.Token);
    }

    /// <summary>
    /// A stream that answers a zero-byte read with 0 at once instead of waiting for data (what a plain
    /// <see cref="Stream"/> subclass does), and returns at most <paramref name="maxRead"/> bytes per read.
    /// </summary>
    private sealed class EagerZeroByteReads(Stream inner, int maxRead) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, maxRead));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            buffer.IsEmpty ? ValueTask.FromResult(0) : inner.ReadAsync(buffer[..Math.Min(buffer.Length, maxRead)], cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            inner.WriteAsync(buffer, cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
