using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging;
using Onboarding.Inventory.Contracts;
using Onboarding.Ssh;

namespace Onboarding.CallHome.Sessions;

/// <summary>One device's live call-home session on this host.</summary>
internal sealed class LiveCallHome(DeviceIdentity device, SshClientSession session, EndPoint? remoteEndPoint, string connectionId, DateTimeOffset since)
{
    private long _lastSeenTicks = since.UtcTicks;

    public DeviceIdentity Device { get; } = device;

    public SshClientSession Session { get; } = session;

    public EndPoint? RemoteEndPoint { get; } = remoteEndPoint;

    public string ConnectionId { get; } = connectionId;

    public DateTimeOffset Since { get; } = since;

    public DateTimeOffset LastSeen => new(Interlocked.Read(ref _lastSeenTicks), TimeSpan.Zero);

    public void Seen(DateTimeOffset at) => Interlocked.Exchange(ref _lastSeenTicks, at.UtcTicks);
}

/// <summary>
/// The live call-home sessions of this host, by device (in memory for now; DESIGN.md "Scale-out" makes it a table of
/// host id and device id when several hosts share the call-home port). A device has at most one: when it dials again
/// (it rebooted, or a NAT dropped the old connection without telling us) the new session replaces the old one, which
/// is closed, so nothing keeps talking to a connection the device has given up.
/// </summary>
internal sealed class CallHomeSessions(TimeProvider clock, ILogger<CallHomeSessions> logger)
{
    private readonly ConcurrentDictionary<DeviceId, LiveCallHome> _sessions = new();

    public int Count => _sessions.Count;

    public LiveCallHome? Find(DeviceId deviceId) => _sessions.GetValueOrDefault(deviceId);

    public IReadOnlyList<LiveCallHome> Snapshot() => [.. _sessions.Values];

    /// <summary>Registers the device's new session; an older one of the same device is removed and closed.</summary>
    public async Task<LiveCallHome> AddAsync(DeviceIdentity device, SshClientSession session, EndPoint? remoteEndPoint, string connectionId)
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
            logger.LogInformation("Device {Serial} ({DeviceId}) called home again from {RemoteEndPoint}: closing its previous session (connection {PreviousConnectionId}, since {Since})",
                device.SerialNumber, device.Id, remoteEndPoint, replaced.ConnectionId, replaced.Since);
            await replaced.Session.DisposeAsync();
        }

        return entry;
    }

    /// <summary>Removes exactly this entry (not a newer session of the same device).</summary>
    public bool Remove(LiveCallHome entry) => _sessions.TryRemove(KeyValuePair.Create(entry.Device.Id, entry));
}
