using System.Net;

namespace Onboarding.CallHome;

/// <summary>
/// The <c>Nms</c> section as call home reads it: the public call-home port devices are told (<c>Nms:CallHomePort</c>,
/// shared with the NMS bootstrap server that hands it out) and, under <c>Nms:CallHome</c>, where this host listens.
/// </summary>
internal sealed class CallHomeOptions
{
    public const string SectionName = "Nms";

    /// <summary>RFC 8071 §3.1: IANA port 4334 (netconf-ch-ssh).</summary>
    public int CallHomePort { get; set; } = 4334;

    public CallHomeListenerOptions CallHome { get; set; } = new();

    /// <summary>The port to bind: <see cref="CallHomeListenerOptions.ListenPort"/> when set (0 = a free port), else <see cref="CallHomePort"/>.</summary>
    public int BindPort => CallHome.ListenPort ?? CallHomePort;
}

internal sealed class CallHomeListenerOptions
{
    /// <summary>False: this NMS host accepts no call-home connections (e.g. an API-only host behind the same database).</summary>
    public bool Enabled { get; set; } = true;

    public string ListenAddress { get; set; } = "0.0.0.0";

    /// <summary>The local port when it differs from the public <c>Nms:CallHomePort</c> (behind a load balancer or NAT); 0 picks a free port (tests).</summary>
    public int? ListenPort { get; set; }

    /// <summary>
    /// How long a connection may take to show its first bytes and finish a Juniper outbound-ssh preamble. An
    /// unauthenticated peer must not hold a connection open by trickling bytes.
    /// </summary>
    public TimeSpan PreambleTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The most a preamble may be (an RSA-4096 HOST-KEY line is ~750 bytes).</summary>
    public int PreambleMaxBytes { get; set; } = 4096;

    /// <summary>The SSH handshake and our login on the device, from the first SSH byte.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A refusal of a known device goes on its timeline at most once per this interval per reason: a misconfigured
    /// device redials every few seconds and would otherwise bury its timeline. Every refusal is logged.
    /// </summary>
    public TimeSpan RefusalTimelineInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How often the NMS sends a <c>keepalive@openssh.com</c> request on a live session (like OpenSSH's ServerAliveInterval).
    /// Keeps NAT state alive and finds half-open sessions.
    /// </summary>
    public TimeSpan KeepaliveInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Intervals in a row without any answer after which the session is closed as half-open (ServerAliveCountMax).</summary>
    public int KeepaliveCountMax { get; set; } = 3;

    /// <summary>
    /// Devices pre-configured (and given their telemetry credential) at the same time on this host; the others wait on
    /// their live sessions. Each apply holds database connections: after a mass reboot a thousand devices call home at
    /// once, and unbounded applies would exhaust the connection pool (100 by default, like PostgreSQL's max_connections)
    /// and fail instead of waiting their turn.
    /// </summary>
    public int MaxConcurrentPreconfigurations { get; set; } = 32;

    /// <summary>How long <c>POST /api/callhome/sessions/{deviceId}/rpc</c> waits for the device's rpc-reply.</summary>
    public TimeSpan RpcTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How the other NMS hosts reach this host's HTTP API (e.g. <c>http://10.0.0.5:8080</c>), stored in
    /// <c>call_home.hosts</c> so a request for a session held here can be forwarded here. Unset: such requests get 503.
    /// </summary>
    public string? InternalApiUrl { get; set; }

    /// <summary>How often this host proves it is alive in <c>call_home.hosts</c>, flushes its sessions' LastSeen and reaps stale hosts.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A host whose heartbeat is older than this is taken as dead: its sessions are not listed and its rows are deleted.</summary>
    public TimeSpan HostStaleAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Connections that have not finished the handshake and the device check yet, in total (like OpenSSH's MaxStartups).</summary>
    public int MaxUnauthenticated { get; set; } = 100;

    /// <summary>
    /// The same from one address. Larger than the SFTP drop's: a site's devices often call home from behind one NAT
    /// address, and all reboot together after a power cut.
    /// </summary>
    public int MaxUnauthenticatedPerAddress { get; set; } = 20;

    /// <summary>New connections per second per address (token bucket refill); over it a connection is closed at accept.</summary>
    public int ConnectionsPerAddressPerSecond { get; set; } = 50;

    /// <summary>The token bucket's size per address: how many connections an address may open at once after a quiet spell.</summary>
    public int ConnectionBurstPerAddress { get; set; } = 100;

    public IPAddress ParsedListenAddress() => IPAddress.TryParse(ListenAddress, out var address)
        ? address
        : throw new InvalidOperationException($"Nms:CallHome:ListenAddress '{ListenAddress}' is not an IP address.");
}
