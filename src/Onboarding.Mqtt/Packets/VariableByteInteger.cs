namespace Onboarding.Mqtt.Packets;

/// <summary>MQTT 5.0 §1.5.5 / 3.1.1 §2.2.3: 7 bits per byte, continuation in bit 7, at most 4 bytes.</summary>
internal static class VariableByteInteger
{
    public const int MaxValue = 268_435_455;

    public enum Status
    {
        Ok,
        NeedMore,
        Invalid,
    }

    public static Status TryRead(ReadOnlySpan<byte> source, out int value, out int consumed)
    {
        value = 0;
        consumed = 0;
        var multiplier = 1;
        for (var i = 0; i < 4; i++)
        {
            if (i >= source.Length)
                return Status.NeedMore;
            var b = source[i];
            value += (b & 0x7F) * multiplier;
            if ((b & 0x80) == 0)
            {
                // MQTT 5.0 §1.5.5: the encoded value MUST use the minimum number of bytes.
                if (i > 0 && b == 0)
                    return Status.Invalid;
                consumed = i + 1;
                return Status.Ok;
            }
            multiplier *= 128;
        }
        return Status.Invalid;
    }

    public static int SizeOf(int value) => value switch
    {
        < 0 => throw new ArgumentOutOfRangeException(nameof(value)),
        < 128 => 1,
        < 16_384 => 2,
        < 2_097_152 => 3,
        <= MaxValue => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(value), "exceeds the variable byte integer range"),
    };

    public static int Write(Span<byte> destination, int value)
    {
        var size = SizeOf(value);
        for (var i = 0; i < size; i++)
        {
            var b = (byte)(value % 128);
            value /= 128;
            if (value > 0)
                b |= 0x80;
            destination[i] = b;
        }
        return size;
    }
}
