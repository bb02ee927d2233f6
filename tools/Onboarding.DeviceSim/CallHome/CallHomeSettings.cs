namespace Onboarding.DeviceSim.CallHome;

/// <summary>Which host key the device presents at call home.</summary>
internal enum HostKeySource
{
    /// <summary>The ed25519 key of the state file, the one bootstrap-complete reported.</summary>
    Generated,

    /// <summary>RFC 6187: the IDevID's key with its certificate (x509v3-ecdsa-sha2-nistp256 for P-256 IDevIDs).</summary>
    IdevId,
}

/// <summary>Misbehaviour for load tests of the NMS's listener.</summary>
internal enum CallHomeFault
{
    None,

    /// <summary>Close the socket right after the device's first edit-config (once per device: the edit is applied, the reply never sent).</summary>
    DropMidConfig,

    /// <summary>Present a freshly generated host key instead of the pinned one (the outbound-ssh preamble still announces the pinned key).</summary>
    WrongKey,
}

/// <summary>What every simulated device is told for <c>callhome</c>; the per-device target comes from its state file unless overridden.</summary>
internal sealed record CallHomeSettings
{
    /// <summary><c>&lt;directory&gt;/state</c>: where the devices' state files live (host key, call-home target).</summary>
    public required string StateDirectory { get; init; }

    /// <summary>Overrides the state file's address.</summary>
    public string? NmsHost { get; init; }

    public int? NmsPort { get; init; }

    /// <summary>Overrides the state file's style (netconf: no preamble; junos: the outbound-ssh preamble).</summary>
    public CallHomeStyle? Style { get; init; }

    /// <summary>Overrides the state file's NMS client key (authorized_keys line).</summary>
    public string? ClientKey { get; init; }

    /// <summary>Overrides the state file's outbound-ssh secret.</summary>
    public string? DeviceSecret { get; init; }

    public HostKeySource HostKey { get; init; } = HostKeySource.Generated;

    /// <summary>Offer :writable-running instead of :candidate (edit-config on running; no commit).</summary>
    public bool WritableRunningOnly { get; init; }

    /// <summary>Accept exec requests like a CLI device: record the command, exit 0.</summary>
    public bool Cli { get; init; }

    /// <summary>An exec command containing this text fails (exit status 1, an error on stderr).</summary>
    public string? FailingCommand { get; init; }

    /// <summary>Keep the session up after configuration (and dial again when it drops) until cancelled.</summary>
    public bool Stay { get; init; }

    public CallHomeFault Fault { get; init; }

    /// <summary>
    /// Announce urn:onboarding:telemetry:1.0: answer generate-csr with a request for a key the device keeps, and publish
    /// telemetry with MQTTnet once the NMS writes a certificate for it into running (README "Telemetry").
    /// </summary>
    public bool Telemetry { get; init; }

    /// <summary>Between two telemetry readings.</summary>
    public TimeSpan TelemetryInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Where the devices' telemetry events are written, one line each (null: nowhere).</summary>
    public TextWriter? TelemetryLog { get; init; }

    /// <summary>Back-off before the n-th consecutive retry: ½–1 × BaseDelay·2^(n−1), capped at MaxDelay.</summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Consecutive failed connections before the device gives up; 0 never gives up.</summary>
    public int MaxAttempts { get; init; } = 10;

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);
}
