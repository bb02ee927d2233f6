namespace Onboarding.Telemetry;

/// <summary>The <c>Telemetry</c> configuration section.</summary>
public sealed class TelemetryOptions
{
    /// <summary>Runs the ingester (an MQTT connection to the broker's internal listener). Off unless a broker is running.</summary>
    public bool Enabled { get; set; }

    /// <summary>The key store's subdirectory that holds the device CA unless <see cref="CaDirectory"/> is set.</summary>
    public const string KeyStoreSubdirectory = "telemetry-ca";

    /// <summary>
    /// Where the device CA key (0600), its certificate, CRL and the ingester's broker secret live; relative to the content
    /// root; unset: <c>telemetry-ca</c> in the key store (<c>KeyStore:Directory</c>).
    /// </summary>
    public string? CaDirectory { get; set; }

    /// <summary>The device_function handed to a device that has no function of its own.</summary>
    public string DefaultDeviceFunction { get; set; } = "telemetry";

    /// <summary>How long issued device certificates are valid.</summary>
    public TimeSpan CertificateLifetime { get; set; } = TimeSpan.FromDays(730);

    /// <summary>How long delivering a credential over a call-home session may take (generate-csr, edit-config, verification).</summary>
    public TimeSpan CredentialDeliveryTimeout { get; set; } = TimeSpan.FromMinutes(1);

    public BrokerOptions Broker { get; set; } = new();

    public IngestionOptions Ingestion { get; set; } = new();
}

public sealed class BrokerOptions
{
    /// <summary>The name devices use to reach the broker (also in the broker's server certificate).</summary>
    public string PublicHost { get; set; } = "localhost";

    /// <summary>The TLS listener for devices (client certificates required).</summary>
    public int DevicePort { get; set; } = 8883;

    public string DeviceBindAddress { get; set; } = "0.0.0.0";

    /// <summary>Where the ingester connects: the internal, password-protected listener on loopback.</summary>
    public string InternalHost { get; set; } = "127.0.0.1";

    public int InternalPort { get; set; } = 1884;

    /// <summary>The broker's user name for the ingester; its password is generated into the CA directory.</summary>
    public string IngesterUserName { get; set; } = "nms-ingester";

    /// <summary>
    /// Mosquitto's pid file. When set, the host sends the broker SIGHUP after each revocation so it rereads the CRL
    /// (only when the broker runs on this machine; otherwise reload it from the broker's side).
    /// </summary>
    public string? PidFile { get; set; }

    /// <summary>Written as mosquitto's <c>user</c> setting when set (e.g. <c>root</c> in tests); mosquitto otherwise drops to <c>mosquitto</c>.</summary>
    public string? RunAsUser { get; set; }

    /// <summary>
    /// mosquitto's max_queued_messages: per client, what the broker keeps for the ingester while it is behind or while the
    /// database is away (about 25 s at 40,000 msg/s with the default). Messages beyond it are dropped by the broker.
    /// </summary>
    public int MaxQueuedMessages { get; set; } = 1_000_000;
}

public sealed class IngestionOptions
{
    /// <summary>
    /// Rows per COPY; a batch is also written when <see cref="FlushInterval"/> has passed since its first message. At most
    /// half of <see cref="ReceiveMaximum"/> (checked at start). Each COPY and commit has a fixed cost in PostgreSQL:
    /// 2,000 rows cost it about a quarter less per row than 500 did (bench/README.md, telemetry).
    /// </summary>
    public int BatchSize { get; set; } = 2000;

    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// The <c>$share/</c> group, so several hosts split the telemetry stream. Empty: a plain subscription, for a single
    /// ingester, which mosquitto 2.0.11 keeps across a broker restart (it does not restore the <c>$share/</c> subscription
    /// of a session that is offline, so devices' messages are dropped until the ingester subscribes again).
    /// </summary>
    public string SharedSubscriptionGroup { get; set; } = "nms-ingest";

    /// <summary>The ingester's MQTT client id; defaults to one per machine, so its persistent session survives restarts.</summary>
    public string? ClientId { get; set; }

    /// <summary>
    /// Messages the broker may have in flight to the ingester, unacknowledged (MQTT 5 Receive Maximum). Acks wait for the
    /// commit, so this must hold several batches, or the broker stalls while a batch is written.
    /// </summary>
    public ushort ReceiveMaximum { get; set; } = 8000;
}
