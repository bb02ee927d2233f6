using Onboarding.Sftp;

namespace Onboarding.Drop.Sftp;

/// <summary>
/// An upload in progress. Pipelined WRITEs arrive in any order and concurrently (for disjoint ranges), so
/// the buffer grows under a lock; it never grows past the quota's maximum file size. SFTP v3 cannot abandon a
/// handle, so a client whose WRITE failed still sends CLOSE: the buffer remembers the failure and which ranges
/// were written, and <see cref="TryComplete"/> refuses to hand over anything but a whole file.
/// </summary>
internal sealed class UploadBuffer(string name, long maxBytes)
{
    private readonly Lock _gate = new();
    private readonly List<(long Start, long End)> _written = [];
    private byte[] _data = new byte[Math.Min(64 * 1024, maxBytes)];
    private long _length;
    private string? _failure;

    public string Name { get; } = name;

    public SftpStatus WriteAt(ulong offset, ReadOnlySpan<byte> data)
    {
        if (offset > (ulong)maxBytes || (ulong)data.Length > (ulong)maxBytes - offset)
        {
            var status = SftpStatus.Failure($"'{Name}' exceeds the maximum file size of {maxBytes} bytes");
            lock (_gate)
                _failure ??= status.Message;
            return status;
        }

        var end = (long)offset + data.Length;
        lock (_gate)
        {
            if (end > _data.Length)
                Array.Resize(ref _data, (int)Math.Min(maxBytes, Math.Max(end, (long)_data.Length * 2)));
            data.CopyTo(_data.AsSpan((int)offset));
            _length = Math.Max(_length, end);
            if (data.Length > 0)
                _written.Add(((long)offset, end));
        }

        return SftpStatus.Ok;
    }

    /// <summary>The whole file, or null with the reason it is not complete (a failed write, or a gap).</summary>
    public byte[]? TryComplete(out string? reason)
    {
        lock (_gate)
        {
            reason = _failure ?? FindGap();
            return reason is null ? _data.AsSpan(0, (int)_length).ToArray() : null;
        }
    }

    private string? FindGap()
    {
        long covered = 0;
        foreach (var (start, end) in _written.OrderBy(r => r.Start))
        {
            if (start > covered)
                return $"bytes {covered} to {start} of '{Name}' were never written";
            covered = Math.Max(covered, end);
        }

        return null;
    }
}
