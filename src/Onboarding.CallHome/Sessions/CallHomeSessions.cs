using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging;
using Npgsql;
using Onboarding.Inventory.Contracts;
using Onboarding.Ssh;

namespace Onboarding.CallHome.Sessions;

/// <summary>One device's live call-home session on this host.</summary>
internal sealed class LiveCallHome(DeviceIdentity device, SshClientSession session, EndPoint? remoteEndPoint, string connectionId, DateTimeOffset since)
{
    private long _lastSeenTicks = since.UtcTicks;
    private volatile bool _registered;
    private volatile bool _ended;

    public DeviceIdentity Device { get; } = device;

    public SshClientSession Session { get; } = session;

    public EndPoint? RemoteEndPoint { get; } = remoteEndPoint;

    public string ConnectionId { get; } = connectionId;

    public DateTimeOffset Since { get; } = since;

    public DateTimeOffset LastSeen => new(Interlocked.Read(ref _lastSeenTicks), TimeSpan.Zero);

    public void Seen(DateTimeOffset at) => Interlocked.Exchange(ref _lastSeenTicks, at.UtcTicks);

    /// <summary>The session's row is in <c>call_home.sessions</c> (false: its write failed and the heartbeat retries it).</summary>
    public bool Registered => _registered;

    /// <summary>The session left the registry here (closed, replaced, or ending).</summary>
    public bool Ended => _ended;

    public void MarkRegistered() => _registered = true;

    /// <summary>The row must be written again (it was lost, e.g. reaped while this host could not reach the database).</summary>
    public void MarkUnregistered() => _registered = false;

    public void End() => _ended = true;
}

/// <summary>
/// The live call-home sessions of this host, by device. A device has at most one: when it dials again (it rebooted, or
/// a NAT dropped the old connection without telling us) the new session replaces the old one, which is closed, so
/// nothing keeps talking to a connection the device has given up. The <see cref="SshClientSession"/> objects live here;
/// the cross-host truth (which host holds which device, DESIGN.md "Scale-out") is <c>call_home.sessions</c>, written
/// through <see cref="CallHomeRegistry"/> as sessions come and go. A database outage drops no live session: a failed
/// write is logged and retried by <see cref="CallHomeHeartbeat"/>.
/// </summary>
internal sealed class CallHomeSessions(CallHomeRegistry registry, TimeProvider clock, ILogger<CallHomeSessions> logger)
{
    private readonly ConcurrentDictionary<DeviceId, LiveCallHome> _sessions = new();
    private readonly ConcurrentQueue<(DeviceId DeviceId, string ConnectionId)> _pendingDeletes = new();

    public int Count => _sessions.Count;

    public LiveCallHome? Find(DeviceId deviceId) => _sessions.GetValueOrDefault(deviceId);

    public IReadOnlyList<LiveCallHome> Snapshot() => [.. _sessions.Values];

    /// <summary>Registers the device's new session (here and in the table); an older one of the same device here is removed and closed.</summary>
    public async Task<LiveCallHome> AddAsync(DeviceIdentity device, SshClientSession session, EndPoint? remoteEndPoint, string connectionId,
        CancellationToken cancellationToken = default)
    {
        var entry = new LiveCallHome(device, session, remoteEndPoint, connectionId, clock.GetUtcNow());
        LiveCallHome? replaced = null;
        _sessions.AddOrUpdate(device.Id, entry, (_, existing) =>
        {
            replaced = existing;
            return entry;
        });
        if (replaced is not null)
        {
            replaced.End();
            logger.LogInformation("Device {Serial} ({DeviceId}) called home again from {RemoteEndPoint}: closing its previous session (connection {PreviousConnectionId}, since {Since})",
                device.SerialNumber, device.Id, remoteEndPoint, replaced.ConnectionId, replaced.Since);
            await replaced.Session.DisposeAsync();
        }

        await RegisterAsync([entry], cancellationToken);
        return entry;
    }

    /// <summary>
    /// Writes the rows of sessions not in the table yet (a new session, or one whose write failed). A session that ended
    /// meanwhile has its row deleted again, so no row outlives its session.
    /// </summary>
    public async Task RegisterAsync(IReadOnlyList<LiveCallHome> entries, CancellationToken cancellationToken)
    {
        try
        {
            await registry.UpsertAsync(entries, cancellationToken);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            logger.LogWarning("Could not register {Count} call-home session(s) in the database ({Reason}); the sessions stay up and the next heartbeat retries",
                entries.Count, ex.Message);
            return;
        }

        foreach (var entry in entries)
        {
            entry.MarkRegistered();
            // Ended is set before the remover deletes: either its delete follows our write, or we see Ended here.
            if (entry.Ended)
                await DeleteRowAsync(entry.Device.Id, entry.ConnectionId, cancellationToken);
        }
    }

    /// <summary>Removes exactly this entry (not a newer session of the same device) and its row.</summary>
    public async Task<bool> RemoveAsync(LiveCallHome entry)
    {
        entry.End();
        if (!_sessions.TryRemove(KeyValuePair.Create(entry.Device.Id, entry)))
            return false; // replaced here: the newer session's write took the row over
        await DeleteRowAsync(entry.Device.Id, entry.ConnectionId, CancellationToken.None);
        return true;
    }

    /// <summary>Retries the row deletes that failed (the heartbeat calls this).</summary>
    public async Task RetryDeletesAsync(CancellationToken cancellationToken)
    {
        var count = _pendingDeletes.Count;
        for (var i = 0; i < count && _pendingDeletes.TryDequeue(out var pending); i++)
            await DeleteRowAsync(pending.DeviceId, pending.ConnectionId, cancellationToken);
    }

    private async Task DeleteRowAsync(DeviceId deviceId, string connectionId, CancellationToken cancellationToken)
    {
        try
        {
            await registry.DeleteAsync(deviceId, connectionId, cancellationToken);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or OperationCanceledException)
        {
            logger.LogWarning("Could not delete the registry row of device {DeviceId}'s ended call-home session (connection {ConnectionId}): {Reason}; the next heartbeat retries",
                deviceId, connectionId, ex.Message);
            _pendingDeletes.Enqueue((deviceId, connectionId));
        }
    }
}
