using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Onboarding.Mqtt.Packets;

namespace Onboarding.Mqtt.Tests.Client;

/// <summary>A scripted broker on a loopback socket: the test decides every byte it sends.</summary>
internal sealed class FakeBroker : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

    public FakeBroker()
    {
        _listener.Start();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public async Task<FakeSession> AcceptAsync(MqttProtocolVersion version)
    {
        var socket = await _listener.AcceptSocketAsync().WaitAsync(TimeSpan.FromSeconds(10));
        return new FakeSession(new NetworkStream(socket, ownsSocket: true), version);
    }

    /// <summary>Accepts, reads CONNECT and answers CONNACK.</summary>
    public async Task<(FakeSession Session, ConnectPacket Connect)> AcceptAndConnAckAsync(MqttProtocolVersion version, ConnAckPacket? connAck = null)
    {
        var session = await AcceptAsync(version);
        var connect = Assert.IsType<ConnectPacket>(await session.ReadAsync());
        await session.SendAsync(connAck ?? new ConnAckPacket());
        return (session, connect);
    }

    /// <summary>A broker, a client with the default options connected to it, and the broker's side of that session.</summary>
    public static async Task<ConnectedClient> ConnectedAsync(MqttProtocolVersion version, bool dedicatedReceiveThread = false)
    {
        var broker = new FakeBroker();
        var client = broker.Client(version, dedicatedReceiveThread: dedicatedReceiveThread);
        var accept = broker.AcceptAndConnAckAsync(version);
        await client.ConnectAsync();
        var (session, _) = await accept;
        return new ConnectedClient(broker, client, session);
    }

    public MqttClient Client(MqttProtocolVersion version, string clientId = "c1", TimeSpan? keepAlive = null, bool dedicatedReceiveThread = false) => new(new MqttClientOptions
    {
        DedicatedReceiveThread = dedicatedReceiveThread,
        Host = "127.0.0.1",
        Port = Port,
        ClientId = clientId,
        ProtocolVersion = version,
        KeepAlive = keepAlive ?? TimeSpan.FromSeconds(60),
        ReconnectMinDelay = TimeSpan.FromMilliseconds(20),
        ReconnectMaxDelay = TimeSpan.FromMilliseconds(100),
        ConnectTimeout = TimeSpan.FromSeconds(5),
    });

    public ValueTask DisposeAsync()
    {
        _listener.Dispose();
        return ValueTask.CompletedTask;
    }
}

internal sealed class FakeSession(NetworkStream stream, MqttProtocolVersion version) : IAsyncDisposable
{
    private readonly byte[] _buffer = new byte[1 << 16];
    private int _length;

    public MqttProtocolVersion Version { get; } = version;

    public async Task<MqttPacket> ReadAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var frame = MqttFrameReader.Read(new ReadOnlySequence<byte>(_buffer, 0, _length), Version, 1 << 20);
            if (frame.Status == FrameStatus.Error)
                throw frame.Error!;
            if (frame.Status == FrameStatus.Packet)
            {
                Array.Copy(_buffer, frame.Consumed, _buffer, 0, _length - frame.Consumed);
                _length -= (int)frame.Consumed;
                return frame.Packet!;
            }
            var read = await stream.ReadAsync(_buffer.AsMemory(_length), cts.Token);
            if (read == 0)
                throw new EndOfStreamException("client closed the connection");
            _length += read;
        }
    }

    /// <summary>Reads the next packet, or null when none arrives within <paramref name="timeout"/>.</summary>
    public async Task<MqttPacket?> TryReadAsync(TimeSpan timeout)
    {
        try
        {
            return await ReadAsync(timeout);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    public async Task SendAsync(MqttPacket packet) => await SendRawAsync(packet.Encode(Version));

    public async Task SendRawAsync(byte[] bytes)
    {
        await stream.WriteAsync(bytes);
        await stream.FlushAsync();
    }

    public async Task<bool> IsClosedByClientAsync(TimeSpan timeout)
    {
        try
        {
            using var cts = new CancellationTokenSource(timeout);
            var read = await stream.ReadAsync(_buffer.AsMemory(_length), cts.Token);
            _length += read;
            return read == 0;
        }
        catch (IOException)
        {
            return true;
        }
    }

    public ValueTask DisposeAsync() => stream.DisposeAsync();
}

/// <summary>What <see cref="FakeBroker.ConnectedAsync"/> sets up; disposes session, client and broker in that order.</summary>
internal sealed record ConnectedClient(FakeBroker Broker, MqttClient Client, FakeSession Session) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        await Session.DisposeAsync();
        await Client.DisposeAsync();
        await Broker.DisposeAsync();
    }
}
