using System.Threading.Channels;

namespace Onboarding.Netconf.Tests;

/// <summary>
/// Two connected in-memory streams (what an SSH channel looks like to a NETCONF session). Each read returns at most
/// <c>maxRead</c> bytes, so messages, chunk headers and markers arrive split across reads.
/// </summary>
internal static class DuplexPipe
{
    public static (Stream A, Stream B) Create(int maxRead = 7)
    {
        var aToB = Channel.CreateUnbounded<byte[]>();
        var bToA = Channel.CreateUnbounded<byte[]>();
        return (new End(bToA.Reader, aToB.Writer, maxRead), new End(aToB.Reader, bToA.Writer, maxRead));
    }

    private sealed class End(ChannelReader<byte[]> incoming, ChannelWriter<byte[]> outgoing, int maxRead) : Stream
    {
        private byte[] _pending = [];
        private int _offset;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (_offset == _pending.Length)
            {
                if (!await incoming.WaitToReadAsync(cancellationToken))
                    return 0;
                if (incoming.TryRead(out var next))
                {
                    _pending = next;
                    _offset = 0;
                }
            }
            var n = Math.Min(Math.Min(buffer.Length, maxRead), _pending.Length - _offset);
            _pending.AsMemory(_offset, n).CopyTo(buffer);
            _offset += n;
            return n;
        }

        public override void Write(byte[] buffer, int offset, int count) => outgoing.TryWrite(buffer.AsSpan(offset, count).ToArray());

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (!outgoing.TryWrite(buffer.ToArray()))
                throw new IOException("the other end is closed");
            return ValueTask.CompletedTask;
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                outgoing.TryComplete();
            base.Dispose(disposing);
        }
    }
}
