using System.Buffers.Binary;
using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Onboarding.Bench.Harness;
using Onboarding.Sftp;

namespace Onboarding.Benchmarks;

/// <summary>
/// Server-side cost of one 32 KiB SSH_FXP_WRITE: frame, decode, order, dispatch to the handler and
/// encode the STATUS reply. The codec is internal, so the public SftpServer.RunAsync is fed a
/// scripted byte stream (INIT, OPEN, N × WRITE, CLOSE) and its replies are discarded. Session
/// set-up is amortised over N writes. The baseline is a memcpy of the same 32 KiB.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(iterationCount: 5, warmupCount: 2)]
public class SftpWriteDecodeBenchmarks
{
    private const int DataBytes = 32 * 1024;
    private const int Writes = 256;

    private readonly byte[] _source = new byte[DataBytes];
    private readonly byte[] _destination = new byte[DataBytes];
    private byte[] _script = [];

    [GlobalSetup]
    public void Setup()
    {
        new Random(1).NextBytes(_source);
        using var script = new MemoryStream();
        Frame(script, 1, w => w.Write(U32(3)));                            // INIT v3
        Frame(script, 3, w =>                                                // OPEN id=1
        {
            w.Write(U32(1));
            Str(w, Encoding.UTF8.GetBytes("/incoming/bench.bin"));
            w.Write(U32(0x1A));                                              // WRITE|CREAT|TRUNC
            w.Write(U32(0));                                                 // no attrs
        });
        // SftpServerSession issues opaque 4-byte counter handles starting at 1; RunOnce checks every WRITE arrives.
        var handle = U32(1);
        for (var i = 0; i < Writes; i++)
        {
            var id = (uint)(2 + i);
            var offset = (ulong)i * DataBytes;
            Frame(script, 6, w =>
            {
                w.Write(U32(id));
                Str(w, handle);
                var off = new byte[8];
                BinaryPrimitives.WriteUInt64BigEndian(off, offset);
                w.Write(off);
                Str(w, _source);
            });
        }
        Frame(script, 4, w =>
        {
            w.Write(U32((uint)(2 + Writes)));
            Str(w, handle);
        });
        _script = script.ToArray();
    }

    private static byte[] U32(uint v)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, v);
        return b;
    }

    private static void Str(MemoryStream w, byte[] data)
    {
        w.Write(U32((uint)data.Length));
        w.Write(data);
    }

    private static void Frame(MemoryStream script, byte type, Action<MemoryStream> body)
    {
        using var payload = new MemoryStream();
        payload.WriteByte(type);
        body(payload);
        script.Write(U32((uint)payload.Length));
        payload.WriteTo(script);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Writes, Description = "memcpy 32 KiB")]
    public void Memcpy()
    {
        for (var i = 0; i < Writes; i++)
            _source.AsSpan().CopyTo(_destination);
    }

    [Benchmark(OperationsPerInvoke = Writes, Description = "SftpServer: decode + dispatch + STATUS of one 32 KiB WRITE")]
    public async Task<long> SftpServerWrite()
    {
        var handler = new DrainSftpHandler();
        await using var stream = new ScriptedStream(_script);
        await SftpServer.RunAsync(stream, handler, SftpServerOptions.Default, NullLogger.Instance, CancellationToken.None);
        return handler.Bytes;
    }

    /// <summary>Checks the script is understood (every WRITE reaches the handler); run once by hand via --validate.</summary>
    public async Task<long> RunOnceAsync() => await SftpServerWrite();

    /// <summary>Reads come from a fixed script; writes (the server's replies) are discarded.</summary>
    private sealed class ScriptedStream(byte[] script) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = Math.Min(buffer.Length, script.Length - _position);
            script.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer, offset, count));

        public override void Write(byte[] buffer, int offset, int count)
        {
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.CompletedTask;

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
