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

    /// <summary>
    /// mosquitto's autosave_interval: how often the broker writes its in-memory state (sessions, subscriptions, queued
    /// messages) to its persistence file, besides at a clean shutdown. Its default is 30 minutes; a broker killed with
    /// SIGKILL (or a machine that loses power) loses what arrived since the last save, messages it already PUBACKed to
    /// devices included. Each save writes the whole state and the single-threaded broker serves nobody meanwhile, so
    /// shorter costs pauses when much is queued. Whole seconds, at least 1.
    /// </summary>
    public TimeSpan AutosaveInterval { get; set; } = TimeSpan.FromSeconds(30);
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
    /// Empty (the default): a plain <c>devices/+/telemetry</c> subscription, for one ingester per broker; mosquitto 2.0.x
    /// keeps it in the persistent session across a broker restart, so nothing a device publishes meanwhile is lost.
    /// A name: the <c>$share/</c> group, so several hosts split the telemetry stream; mosquitto 2.0.11 does not restore an
    /// offline session's <c>$share/</c> subscription after a restart, and PUBACKs and drops devices' messages (0x10, no
    /// matching subscribers) until the ingester subscribes again (bench/README.md, telemetry, "--stop-broker-for").
    /// Switching is safe: the filter no longer wanted is unsubscribed from the persistent session (IngesterSubscriptions).
    /// </summary>
    public string SharedSubscriptionGroup { get; set; } = "";

    /// <summary>The ingester's MQTT client id; defaults to one per machine, so its persistent session survives restarts.</summary>
    public string? ClientId { get; set; }

    /// <summary>
    /// Messages the broker may have in flight to the ingester, unacknowledged (MQTT 5 Receive Maximum). Acks wait for the
    /// commit, so this must hold several batches, or the broker stalls while a batch is written.
    /// </summary>
    public ushort ReceiveMaximum { get; set; } = 8000;
}
