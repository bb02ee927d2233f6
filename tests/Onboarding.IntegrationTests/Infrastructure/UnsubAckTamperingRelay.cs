namespace Onboarding.IntegrationTests.Infrastructure;

/// <summary>
/// A <see cref="TcpRelay"/> in front of mosquitto that reads the broker's MQTT frames and replaces the reason code of
/// the first <c>count</c> UNSUBACK packets (the last byte of a one-filter MQTT 5 UNSUBACK, §3.11.3) with
/// <c>replacement</c>: 0x87 plays a broker refusing, 0x01 (not an UNSUBACK code) a malformed packet. Everything else
/// passes unchanged. mosquitto never refuses an UNSUBSCRIBE (it answers 0x11 for an unknown filter), so these paths need this.
/// </summary>
public sealed class UnsubAckTamperingRelay : IAsyncDisposable
{
    private readonly TcpRelay _relay;
    private readonly byte _replacement;
    private readonly Lock _gate = new();
    private int _left;
    private int _tampered;

    public UnsubAckTamperingRelay(int targetPort, byte replacement, int count)
    {
        _replacement = replacement;
        _left = count;
        _relay = new TcpRelay(targetPort, RewriteAsync);
    }

    public int Port => _relay.Port;

    /// <summary>UNSUBACK packets whose reason code was replaced so far.</summary>
    public int Tampered
    {
        get
        {
            lock (_gate)
                return _tampered;
        }
    }

    /// <summary>Cuts every relayed connection (a network failure); the client reconnects through the relay.</summary>
    public void Cut() => _relay.Cut();

    public ValueTask DisposeAsync() => _relay.DisposeAsync();

    /// <summary>Broker → client, frame by frame: fixed header, Variable Byte Integer length (MQTT 5.0 §2.1.4, §1.5.5), body.</summary>
    private async Task RewriteAsync(Stream from, Stream to)
    {
        var buffer = new byte[1 << 20];
        var length = 0;
        while (true)
        {
            var read = await from.ReadAsync(buffer.AsMemory(length));
            if (read == 0)
                return;
            length += read;
            var consumed = 0;
            while (TryFrame(buffer.AsSpan(consumed, length - consumed), out var frameLength))
            {
                var frame = buffer.AsSpan(consumed, frameLength);
                lock (_gate)
                {
                    if ((frame[0] & 0xF0) == 0xB0 && _left > 0 && frame.Length > 4)
                    {
                        _left--;
                        _tampered++;
                        frame[^1] = _replacement;
                    }
                }

                consumed += frameLength;
            }

            await to.WriteAsync(buffer.AsMemory(0, consumed));
            buffer.AsSpan(consumed, length - consumed).CopyTo(buffer);
            length -= consumed;
        }
    }

    private static bool TryFrame(ReadOnlySpan<byte> data, out int frameLength)
    {
        frameLength = 0;
        var remaining = 0;
        for (var i = 1; i <= 4 && i < data.Length; i++)
        {
            remaining |= (data[i] & 0x7F) << (7 * (i - 1));
            if ((data[i] & 0x80) == 0)
            {
                frameLength = 1 + i + remaining;
                return data.Length >= frameLength;
            }
        }

        return false;
    }
}
