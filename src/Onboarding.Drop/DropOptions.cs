namespace Onboarding.Drop;

public sealed class DropOptions
{
    /// <summary>Where the SFTP drop listens; manufacturers are told <c>Nms:SftpPort</c>, normally the same.</summary>
    public int Port { get; set; } = 2222;

    public string ListenAddress { get; set; } = "0.0.0.0";

    /// <summary>Set false to run without the SFTP listener (e.g. a Redirect-only host).</summary>
    public bool Enabled { get; set; } = true;

    public DropQuota Quota { get; set; } = new();

    /// <summary>Failed logins from one address, or for one username, before it is locked out.</summary>
    public int MaxFailedLogins { get; set; } = 10;

    public TimeSpan FailureWindow { get; set; } = TimeSpan.FromMinutes(10);

    public TimeSpan LockoutDuration { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Delay after each failed authentication attempt, before the client may try again.</summary>
    public TimeSpan FailedLoginDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a closed upload can still be STATed and listed in /incoming (clients check an upload after CLOSE);
    /// zero hides uploads at once.
    /// </summary>
    public TimeSpan RecentUploadVisibility { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Connections not (yet) logged in, from TCP accept until authentication succeeds or the connection ends, that
    /// this host serves at once (OpenSSH's MaxStartups); one more is closed at once.
    /// </summary>
    public int MaxUnauthenticated { get; set; } = 100;

    /// <summary>The same limit per client address, so that one address cannot take every slot.</summary>
    public int MaxUnauthenticatedPerAddress { get; set; } = 10;

    /// <summary>Group commit: the most upload CLOSEs committed in one transaction.</summary>
    public int MaxGroupFiles { get; set; } = 64;

    /// <summary>
    /// Group commit: groups of one manufacturer committed at once. A CLOSE that finds none starts a group at once;
    /// otherwise it waits for the next group, which takes every waiting CLOSE.
    /// </summary>
    public int MaxConcurrentGroups { get; set; } = 4;

    /// <summary>
    /// Group commit: CLOSEs that must be waiting before another group starts beside one already committing (up to
    /// <see cref="MaxConcurrentGroups"/>); fewer wait for the next group. 1 (the default) starts one whenever there is
    /// room. 16 gave bigger groups and a quarter less PostgreSQL CPU per file in bench/README.md, but then a file waits
    /// for a whole group, and a group held up by a lock holds every file in it (DropCrashTests).
    /// </summary>
    public int MinFilesForConcurrentGroup { get; set; } = 1;

    /// <summary>
    /// Group commit: how long a CLOSE waits for the groups committing before it starts one beside them anyway (up to
    /// <see cref="MaxConcurrentGroups"/>), so a group held up by a lock or a slow disk does not hold the queue.
    /// </summary>
    public TimeSpan GroupWaitLimit { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Backpressure: CLOSEs of one manufacturer waiting or being committed at once; more wait for room.</summary>
    public int MaxQueuedCloses { get; set; } = 1024;
}

/// <summary>Per-manufacturer limits on what the drop keeps.</summary>
public sealed class DropQuota
{
    public long MaxFileBytes { get; set; } = 4 * 1024 * 1024;

    public int MaxFiles { get; set; } = 100_000;

    public long MaxTotalBytes { get; set; } = 1024L * 1024 * 1024;
}
