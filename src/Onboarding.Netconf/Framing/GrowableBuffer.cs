namespace Onboarding.Netconf.Framing;

/// <summary>A byte buffer that grows by doubling, bounded by its owner's checks.</summary>
internal sealed class GrowableBuffer
{
    private byte[] _bytes = new byte[256];

    public int Count { get; private set; }

    public ReadOnlySpan<byte> Span => _bytes.AsSpan(0, Count);

    public void Append(ReadOnlySpan<byte> data)
    {
        if (Count + data.Length > _bytes.Length)
        {
            var grown = new byte[Math.Max(_bytes.Length * 2, Count + data.Length)];
            _bytes.AsSpan(0, Count).CopyTo(grown);
            _bytes = grown;
        }
        data.CopyTo(_bytes.AsSpan(Count));
        Count += data.Length;
    }

    public void Truncate(int count) => Count = count;

    /// <summary>Returns the first <paramref name="count"/> bytes and empties the buffer, shrinking a large one.</summary>
    public byte[] Take(int count)
    {
        var result = _bytes.AsSpan(0, count).ToArray();
        Count = 0;
        if (_bytes.Length > 64 * 1024)
            _bytes = new byte[256];
        return result;
    }
}
