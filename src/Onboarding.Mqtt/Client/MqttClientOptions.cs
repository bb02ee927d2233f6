using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Onboarding.Mqtt;

/// <summary>How <see cref="MqttClient"/> reaches and talks to the broker.</summary>
public sealed class MqttClientOptions
{
    public required string Host { get; init; }

    /// <summary>1883 for plain TCP, 8883 is customary for TLS.</summary>
    public int Port { get; init; } = 1883;

    public MqttProtocolVersion ProtocolVersion { get; init; } = MqttProtocolVersion.V500;

    /// <summary>Client Identifier. Persistent sessions need a stable, non-empty one.</summary>
    public string ClientId { get; init; } = "";

    public string? UserName { get; init; }

    /// <summary>Sent in CONNECT only; never logged.</summary>
    public string? Password { get; init; }

    /// <summary>
    /// Clean Start (5.0) / Clean Session (3.1.1). Default false: the broker keeps the session across
    /// reconnects, so QoS 1/2 messages published while we are away are delivered when we return.
    /// Only the first connection uses this value; reconnects always resume the session.
    /// </summary>
    public bool CleanStart { get; init; }

    /// <summary>MQTT 5.0 Session Expiry Interval in seconds (§3.1.2.11.2); 3.1.1 sessions live until Clean Session.</summary>
    public uint SessionExpiryInterval { get; init; } = 3600;

    /// <summary>Keep Alive (§3.1.2.10); zero disables PINGREQ.</summary>
    public TimeSpan KeepAlive { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long to wait for PINGRESP before the connection is considered dead.</summary>
    public TimeSpan PingTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// MQTT 5.0 Receive Maximum we advertise (§3.1.2.11.3): how many QoS 1/2 messages the broker may have
    /// un-acknowledged with us. Acks follow database commits, so this must cover a commit batch and the
    /// next one filling up; 1024 keeps a batching ingester busy without unbounded memory.
    /// </summary>
    public ushort ReceiveMaximum { get; init; } = 1024;

    /// <summary>Largest packet we accept (§3.1.2.11.4); larger ones are refused with 0x95 before they are buffered.</summary>
    public uint MaximumPacketSize { get; init; } = 1024 * 1024;

    /// <summary>
    /// Read the connection on a thread of its own with blocking reads, handling each packet on it, instead of awaiting
    /// socket reads on the thread pool. For a client receiving tens of thousands of messages a second (the telemetry
    /// ingester): the kernel wakes the one reading thread, instead of waking the socket engine's thread, which then wakes
    /// a pool thread, for every read. Costs a thread per connection while it is open. The connect, the TLS handshake,
    /// CONNECT/CONNACK and every write are blocking calls too (the connecting thread waits for them): .NET registers a
    /// socket with its epoll engine the first time an asynchronous operation has to wait, and a registered socket wakes
    /// the engine for every segment that arrives, read by this thread or not.
    /// </summary>
    public bool DedicatedReceiveThread { get; init; }

    public bool AutoReconnect { get; init; } = true;

    public TimeSpan ReconnectMinDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan ReconnectMaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Will Message the broker publishes if we vanish without DISCONNECT (MQTT 5.0 §3.1.2.5).</summary>
    public MqttLastWill? Will { get; init; }

    /// <summary>Set to use TLS.</summary>
    public MqttTlsOptions? Tls { get; init; }
}

/// <summary>TLS settings for <see cref="MqttClientOptions.Tls"/>.</summary>
public sealed class MqttTlsOptions
{
    /// <summary>Server name for SNI and certificate name checks; defaults to <see cref="MqttClientOptions.Host"/>.</summary>
    public string? TargetHost { get; init; }

    /// <summary>Client certificate with its private key (device identity).</summary>
    public X509Certificate2? ClientCertificate { get; init; }

    /// <summary>Trust only these CAs for the broker certificate (custom root trust) instead of the system store.</summary>
    public X509Certificate2Collection? TrustedCertificateAuthorities { get; init; }

    /// <summary>Full control over broker certificate validation; overrides <see cref="TrustedCertificateAuthorities"/>.</summary>
    public RemoteCertificateValidationCallback? RemoteCertificateValidation { get; init; }
}

/// <summary>The Will Message of <see cref="MqttClientOptions.Will"/>.</summary>
public sealed class MqttLastWill
{
    public required string Topic { get; init; }
    public ReadOnlyMemory<byte> Payload { get; init; }
    public MqttQualityOfService QoS { get; init; } = MqttQualityOfService.AtLeastOnce;
    public bool Retain { get; init; }

    /// <summary>MQTT 5.0 Will Delay Interval in seconds (§3.1.3.2.2); ignored for 3.1.1.</summary>
    public uint DelayInterval { get; init; }
}
