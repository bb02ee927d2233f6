using System.Net;
using System.Net.Sockets;

namespace Onboarding.IntegrationTests.Infrastructure;

/// <summary>
/// A TCP relay in front of mosquitto that reads the broker's MQTT frames and replaces the reason code of the first
/// <c>count</c> UNSUBACK packets (the last byte of a one-filter MQTT 5 UNSUBACK, §3.11.3) with <c>replacement</c>: 0x87
/// plays a broker refusing, 0x01 (not an UNSUBACK code) a malformed packet. Everything else passes unchanged.
/// mosquitto never refuses an UNSUBSCRIBE (it answers 0x11 for an unknown filter), so these paths need this.
/// </summary>
public sealed class UnsubAckTamperingRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _targetPort;
    private readonly byte _replacement;
    private readonly Lock _gate = new();
    private readonly List<TcpClient> _open = [];
    private readonly Task _accepting;
    private int _left;
    private int _tampered;

    public UnsubAckTamperingRelay(int targetPort, byte replacement, int count)
    {
        _targetPort = targetPort;
        _replacement = replacement;
        _left = count;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

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
    public void Cut()
    {
        lock (_gate)
        {
            foreach (var client in _open)
                client.Dispose();
            _open.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        Cut();
        try
        {
            await _accepting;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // the listener was stopped
        }
    }

    private async Task AcceptAsync()
    {
        while (true)
        {
            TcpClient inbound;
            try
            {
                inbound = await _listener.AcceptTcpClientAsync();
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            var outbound = new TcpClient();
            try
            {
                await outbound.ConnectAsync(IPAddress.Loopback, _targetPort);
            }
            catch (SocketException)
            {
                inbound.Dispose();
                outbound.Dispose();
                continue;
            }
            lock (_gate)
            {
                _open.Add(inbound);
                _open.Add(outbound);
            }
            _ = PumpAsync(inbound.GetStream(), outbound.GetStream(), inbound, outbound);
            _ = RewriteAsync(outbound.GetStream(), inbound.GetStream(), inbound, outbound);
        }
    }

    private static async Task PumpAsync(Stream from, Stream to, TcpClient a, TcpClient b)
    {
        try
        {
            await from.CopyToAsync(to);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // one side closed
        }
        a.Dispose();
        b.Dispose();
    }

    /// <summary>Broker → client, frame by frame: fixed header, Variable Byte Integer length (MQTT 5.0 §2.1.4, §1.5.5), body.</summary>
    private async Task RewriteAsync(Stream from, Stream to, TcpClient a, TcpClient b)
    {
        var buffer = new byte[1 << 20];
        var length = 0;
        try
        {
            while (true)
            {
                var read = await from.ReadAsync(buffer.AsMemory(length));
                if (read == 0)
                    break;
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
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // one side closed
        }
        a.Dispose();
        b.Dispose();
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
