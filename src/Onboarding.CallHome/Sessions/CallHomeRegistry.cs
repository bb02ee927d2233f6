using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Onboarding.Inventory.Contracts;

namespace Onboarding.CallHome.Sessions;

/// <summary>A session as the cross-host registry lists it.</summary>
internal sealed record RegisteredSession(DeviceId DeviceId, string Serial, Guid HostId, string ConnectionId, string? RemoteEndPoint,
    DateTimeOffset Since, DateTimeOffset LastSeen);

/// <summary>Which host holds a device's session, and how to reach that host's API.</summary>
internal sealed record SessionHolder(Guid HostId, string? ApiUrl);

/// <summary>
/// The table side of the session registry (<c>call_home.hosts</c>, <c>call_home.sessions</c>), DESIGN.md "Scale-out":
/// which host holds each device's live session. Hand-written SQL because the heartbeat's statements are batches over
/// arrays (<c>unnest</c>): 10,000 sessions with 30 s keepalives are one UPDATE per heartbeat, not 333 per second.
/// Times of liveness (heartbeat, staleness) are the database's <c>now()</c>, one clock for every host.
/// </summary>
internal sealed class CallHomeRegistry(NpgsqlDataSource dataSource, IOptions<CallHomeOptions> options, TimeProvider clock)
{
    /// <summary>This process's identity: fresh per start, so the rows of a process killed with -9 are recognisably another host's.</summary>
    public Guid HostId { get; } = Guid.CreateVersion7();

    public DateTimeOffset StartedAt { get; } = clock.GetUtcNow();

    /// <summary>
    /// Writes this host's heartbeat (the row is created on the first). With <paramref name="forgetPreviousIncarnations"/>
    /// the rows of earlier processes that announced the same API URL go (this host restarted: nothing of the previous
    /// process may look live), sessions with them.
    /// </summary>
    public async Task BeatAsync(bool forgetPreviousIncarnations, CancellationToken cancellationToken)
    {
        var apiUrl = ApiUrl;
        var sql = """
            INSERT INTO call_home.hosts (host_id, api_url, started_at, heartbeat_at) VALUES (@host, @url, @started, now())
            ON CONFLICT (host_id) DO UPDATE SET heartbeat_at = now(), api_url = excluded.api_url;
            """;
        if (forgetPreviousIncarnations && apiUrl is not null)
            sql += "DELETE FROM call_home.hosts WHERE api_url = @url AND host_id <> @host;";
        await using var command = dataSource.CreateCommand(sql);
        AddHostParameters(command);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>How other hosts reach this one (<c>Nms:CallHome:InternalApiUrl</c>), or null.</summary>
    public string? ApiUrl => options.Value.CallHome.InternalApiUrl;

    private void AddHostParameters(NpgsqlCommand command)
    {
        command.Parameters.AddWithValue("host", HostId);
        command.Parameters.Add(new NpgsqlParameter("url", NpgsqlDbType.Varchar) { Value = (object?)ApiUrl ?? DBNull.Value });
        command.Parameters.AddWithValue("started", StartedAt.UtcDateTime);
    }

    /// <summary>Deletes this host's row and, through the foreign key, its sessions' rows (a clean shutdown).</summary>
    public async Task RemoveHostAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM call_home.hosts WHERE host_id = @host");
        command.Parameters.AddWithValue("host", HostId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Registers sessions of this host (one statement for any number). A device's row is replaced unless it already
    /// names a later session (the device called home again meanwhile, possibly through another host).
    /// </summary>
    public async Task UpsertAsync(IReadOnlyList<LiveCallHome> sessions, CancellationToken cancellationToken)
    {
        // The host row first (the sessions' foreign key): a device may call before the first heartbeat ran.
        await using var command = dataSource.CreateCommand("""
            INSERT INTO call_home.hosts (host_id, api_url, started_at, heartbeat_at) VALUES (@host, @url, @started, now())
            ON CONFLICT (host_id) DO NOTHING;
            INSERT INTO call_home.sessions (device_id, customer_id, serial, host_id, connection_id, remote_endpoint, since, last_seen)
            SELECT u.device_id, u.customer_id, u.serial, @host, u.connection_id, u.remote_endpoint, u.since, u.last_seen
            FROM unnest(@devices, @customers, @serials, @connections, @remotes, @since, @seen)
                AS u(device_id, customer_id, serial, connection_id, remote_endpoint, since, last_seen)
            ON CONFLICT (device_id) DO UPDATE SET customer_id = excluded.customer_id, serial = excluded.serial, host_id = excluded.host_id,
                connection_id = excluded.connection_id, remote_endpoint = excluded.remote_endpoint, since = excluded.since, last_seen = excluded.last_seen
            WHERE call_home.sessions.since <= excluded.since
            """);
        AddHostParameters(command);
        command.Parameters.AddWithValue("devices", sessions.Select(s => s.Device.Id.Value).ToArray());
        command.Parameters.AddWithValue("customers", sessions.Select(s => s.Device.CustomerId).ToArray());
        command.Parameters.AddWithValue("serials", sessions.Select(s => s.Device.SerialNumber).ToArray());
        command.Parameters.AddWithValue("connections", sessions.Select(s => s.ConnectionId).ToArray());
        command.Parameters.Add(new NpgsqlParameter("remotes", NpgsqlDbType.Array | NpgsqlDbType.Varchar)
        {
            Value = sessions.Select(s => s.RemoteEndPoint?.ToString()).ToArray(),
        });
        command.Parameters.AddWithValue("since", sessions.Select(s => s.Since.UtcDateTime).ToArray());
        command.Parameters.AddWithValue("seen", sessions.Select(s => s.LastSeen.UtcDateTime).ToArray());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Deletes exactly this session's row: a newer session of the same device (here or elsewhere) keeps its own.</summary>
    public async Task DeleteAsync(DeviceId deviceId, string connectionId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "DELETE FROM call_home.sessions WHERE device_id = @device AND connection_id = @connection AND host_id = @host");
        command.Parameters.AddWithValue("device", deviceId.Value);
        command.Parameters.AddWithValue("connection", connectionId);
        command.Parameters.AddWithValue("host", HostId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Moves LastSeen of these sessions of this host in one statement; returns the devices whose row still names this
    /// host and connection. A device missing from the answer either called home again (elsewhere) or lost its row.
    /// </summary>
    public async Task<HashSet<DeviceId>> FlushLastSeenAsync(IReadOnlyList<LiveCallHome> sessions, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE call_home.sessions s SET last_seen = GREATEST(s.last_seen, u.last_seen)
            FROM unnest(@devices, @connections, @seen) AS u(device_id, connection_id, last_seen)
            WHERE s.device_id = u.device_id AND s.connection_id = u.connection_id AND s.host_id = @host
            RETURNING s.device_id
            """);
        command.Parameters.AddWithValue("host", HostId);
        command.Parameters.AddWithValue("devices", sessions.Select(s => s.Device.Id.Value).ToArray());
        command.Parameters.AddWithValue("connections", sessions.Select(s => s.ConnectionId).ToArray());
        command.Parameters.AddWithValue("seen", sessions.Select(s => s.LastSeen.UtcDateTime).ToArray());
        var still = new HashSet<DeviceId>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            still.Add(new DeviceId(reader.GetGuid(0)));
        return still;
    }

    /// <summary>The rows of these devices as they are now (host and connection), whatever host they name.</summary>
    public async Task<Dictionary<DeviceId, (Guid HostId, string ConnectionId)>> RowsAsync(IEnumerable<DeviceId> devices, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT device_id, host_id, connection_id FROM call_home.sessions WHERE device_id = ANY(@devices)");
        command.Parameters.AddWithValue("devices", devices.Select(d => d.Value).ToArray());
        var rows = new Dictionary<DeviceId, (Guid, string)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            rows[new DeviceId(reader.GetGuid(0))] = (reader.GetGuid(1), reader.GetString(2));
        return rows;
    }

    /// <summary>Deletes the hosts (other than this one) whose heartbeat is older than <paramref name="staleAfter"/>, their sessions with them.</summary>
    public async Task<IReadOnlyList<(Guid HostId, long Sessions)>> ReapAsync(TimeSpan staleAfter, CancellationToken cancellationToken)
    {
        // RETURNING's subquery sees the statement's snapshot: the sessions the cascade is about to delete.
        await using var command = dataSource.CreateCommand("""
            DELETE FROM call_home.hosts h WHERE h.heartbeat_at < now() - @stale AND h.host_id <> @host
            RETURNING h.host_id, (SELECT count(*) FROM call_home.sessions s WHERE s.host_id = h.host_id)
            """);
        command.Parameters.AddWithValue("stale", staleAfter);
        command.Parameters.AddWithValue("host", HostId);
        var reaped = new List<(Guid, long)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            reaped.Add((reader.GetGuid(0), reader.GetInt64(1)));
        return reaped;
    }

    /// <summary>The customer's sessions on every live host (heartbeat fresher than <paramref name="staleAfter"/>), oldest first.</summary>
    public async Task<List<RegisteredSession>> ListAsync(Guid customerId, TimeSpan staleAfter, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT s.device_id, s.serial, s.host_id, s.connection_id, s.remote_endpoint, s.since, s.last_seen
            FROM call_home.sessions s JOIN call_home.hosts h ON h.host_id = s.host_id
            WHERE s.customer_id = @customer AND h.heartbeat_at >= now() - @stale
            ORDER BY s.since, s.device_id
            """);
        command.Parameters.AddWithValue("customer", customerId);
        command.Parameters.AddWithValue("stale", staleAfter);
        var sessions = new List<RegisteredSession>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            sessions.Add(new RegisteredSession(new DeviceId(reader.GetGuid(0)), reader.GetString(1), reader.GetGuid(2), reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetFieldValue<DateTimeOffset>(5), reader.GetFieldValue<DateTimeOffset>(6)));
        }

        return sessions;
    }

    /// <summary>The live host holding the customer's device's session, or null (no session, another customer's device, a stale host).</summary>
    public async Task<SessionHolder?> FindHolderAsync(DeviceId deviceId, Guid customerId, TimeSpan staleAfter, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT h.host_id, h.api_url FROM call_home.sessions s JOIN call_home.hosts h ON h.host_id = s.host_id
            WHERE s.device_id = @device AND s.customer_id = @customer AND h.heartbeat_at >= now() - @stale
            """);
        command.Parameters.AddWithValue("device", deviceId.Value);
        command.Parameters.AddWithValue("customer", customerId);
        command.Parameters.AddWithValue("stale", staleAfter);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new SessionHolder(reader.GetGuid(0), reader.IsDBNull(1) ? null : reader.GetString(1)) : null;
    }
}
