using Onboarding.Sftp;

namespace Onboarding.Drop.Sftp;

/// <summary>
/// An upload in progress. Pipelined WRITEs arrive in any order and concurrently (for disjoint ranges), so
/// the buffer grows under a lock; it never grows past the quota's maximum file size.
/// </summary>
internal sealed class UploadBuffer(string name, long maxBytes)
{
    private readonly Lock _gate = new();
    private byte[] _data = new byte[Math.Min(64 * 1024, maxBytes)];
    private long _length;

    public string Name { get; } = name;

    public SftpStatus WriteAt(ulong offset, ReadOnlySpan<byte> data)
    {
        if (offset > (ulong)maxBytes || (ulong)data.Length > (ulong)maxBytes - offset)
            return SftpStatus.Failure($"'{Name}' exceeds the maximum file size of {maxBytes} bytes");

        var end = (long)offset + data.Length;
        lock (_gate)
        {
            if (end > _data.Length)
                Array.Resize(ref _data, (int)Math.Min(maxBytes, Math.Max(end, (long)_data.Length * 2)));
            data.CopyTo(_data.AsSpan((int)offset));
            _length = Math.Max(_length, end);
        }

        return SftpStatus.Ok;
    }

    public byte[] ToArray()
    {
        lock (_gate)
            return _data.AsSpan(0, (int)_length).ToArray();
    }
}
