using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Onboarding.Mqtt;

namespace Onboarding.Telemetry.Ingestion;

/// <summary>
/// Validates a batch of telemetry messages against the issued credentials and writes it in one transaction: readings by
/// binary COPY, state reports, and dead letters (reason + raw payload) for every message that cannot be accepted.
/// <para>
/// Readings are copied straight into <c>telemetry.readings</c>. Only when that meets a key already stored (a redelivery
/// after a lost PUBACK) is the batch written again through a staging table with <c>ON CONFLICT DO NOTHING</c>, so the
/// common case costs PostgreSQL one COPY and a redelivered message is still stored once. A reading PostgreSQL refuses
/// (a data error) is found by halving the batch and dead-lettered with PostgreSQL's reason: it must neither hold up the
/// readings around it nor be retried forever. Any other failure is thrown; the ingester retries the whole batch.
/// </para>
/// Used by the one ingester loop, one batch at a time: it keeps its own connection between batches.
/// </summary>
internal sealed class TelemetryBatchWriter(NpgsqlDataSource dataSource, TimeProvider clock, ILogger<TelemetryBatchWriter> logger) : IAsyncDisposable
{
    private const string ReadingColumns =
        "(device_name, signal_date, customer_id, latitude, longitude, battery_level, metric_names, metric_values, received_at)";

    private NpgsqlConnection? _connection;

    private sealed record KnownDevice(Guid CustomerId, long DeviceName, bool Revoked);

    private readonly record struct Reading(TelemetryMessage Message, KnownDevice Device, MqttApplicationMessage Source);

    private readonly record struct DeadLetter(string Topic, string Reason, ReadOnlyMemory<byte> Payload);

    private readonly record struct StateReport(string Serial, int Version);

    public async Task WriteAsync(IReadOnlyList<MqttApplicationMessage> batch, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var deadLetters = new List<DeadLetter>();
        var candidates = new List<(TelemetryMessage Message, MqttApplicationMessage Source)>(batch.Count);
        var states = new List<(StateReport Report, MqttApplicationMessage Source)>();
        foreach (var message in batch)
        {
            switch (TelemetryMessage.ParseTopic(message.Topic, out var serial))
            {
                case TelemetryMessage.Topic.Telemetry when serial!.Length <= 64:
                    if (TelemetryMessage.Parse(message.Payload.Span, serial, out var reason) is { } parsed)
                        candidates.Add((parsed, message));
                    else
                        deadLetters.Add(new DeadLetter(message.Topic, reason!, message.Payload));
                    break;
                case TelemetryMessage.Topic.State when serial!.Length <= 64:
                    if (TelemetryMessage.ParseAppliedVersion(message.Payload, out var stateReason) is { } applied)
                        states.Add((new StateReport(serial, applied), message));
                    else
                        deadLetters.Add(new DeadLetter(message.Topic, stateReason!, message.Payload));
                    break;
                default:
                    deadLetters.Add(new DeadLetter(message.Topic, "the topic is not devices/<serial>/telemetry", message.Payload));
                    break;
            }
        }

        var connection = _connection ??= await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var devices = await LoadDevicesAsync(connection, candidates.Select(c => c.Message.DeviceId).Concat(states.Select(s => s.Report.Serial)), cancellationToken);
            var readings = new List<Reading>(candidates.Count);
            foreach (var (message, source) in candidates)
            {
                if (Check(message, devices) is { } refused)
                    deadLetters.Add(new DeadLetter(source.Topic, refused, source.Payload));
                else
                    readings.Add(new Reading(message, devices[message.DeviceId], source));
            }
            var known = new List<StateReport>(states.Count);
            foreach (var (report, source) in states)
            {
                if (devices.ContainsKey(report.Serial))
                    known.Add(report);
                else
                    deadLetters.Add(new DeadLetter(source.Topic, "no telemetry credentials were issued for this serial", source.Payload));
            }

            await CommitAsync(connection, readings, known, deadLetters, now, cancellationToken);
        }
        catch
        {
            // Whatever state the connection is in now, the retry starts on a fresh one.
            _connection = null;
            await connection.DisposeAsync();
            throw;
        }

        if (deadLetters.Count > 0)
        {
            logger.LogWarning("{Count} telemetry messages dead-lettered, first: {Topic}: {Reason}", deadLetters.Count,
                Truncate(deadLetters[0].Topic, 300), deadLetters[0].Reason);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
            await _connection.DisposeAsync();
        _connection = null;
    }

    private async Task CommitAsync(NpgsqlConnection connection, List<Reading> readings, List<StateReport> states, List<DeadLetter> deadLetters,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        var throughStaging = false;
        while (true)
        {
            try
            {
                await TransactAsync(connection, readings, states, deadLetters, now, throughStaging, cancellationToken);
                return;
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation && !throughStaging)
            {
                throughStaging = true;
            }
            catch (PostgresException ex) when (IsDataError(ex) && readings.Count == 1)
            {
                var refused = readings[0].Source;
                logger.LogWarning("PostgreSQL refused a reading of {Serial} ({SqlState}: {Error}); it is dead-lettered",
                    readings[0].Message.DeviceId, ex.SqlState, ex.MessageText);
                deadLetters.Add(new DeadLetter(refused.Topic, Truncate($"refused by the database: {ex.SqlState} {ex.MessageText}", 500), refused.Payload));
                readings = [];
            }
            catch (PostgresException ex) when (IsDataError(ex) && readings.Count > 1)
            {
                var half = readings.Count / 2;
                await CommitAsync(connection, readings[..half], states, deadLetters, now, cancellationToken);
                await CommitAsync(connection, readings[half..], [], [], now, cancellationToken);
                return;
            }
        }
    }

    private static async Task TransactAsync(NpgsqlConnection connection, List<Reading> readings, List<StateReport> states, List<DeadLetter> deadLetters,
        DateTimeOffset now, bool throughStaging, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (readings.Count > 0)
        {
            if (throughStaging)
            {
                await ExecuteAsync(connection, "CREATE TEMP TABLE IF NOT EXISTS readings_staging (LIKE telemetry.readings INCLUDING DEFAULTS) ON COMMIT DELETE ROWS",
                    cancellationToken);
                await CopyReadingsAsync(connection, "readings_staging", readings, now, cancellationToken);
                await ExecuteAsync(connection,
                    "INSERT INTO telemetry.readings SELECT * FROM readings_staging ON CONFLICT (device_name, signal_date) DO NOTHING", cancellationToken);
            }
            else
            {
                await CopyReadingsAsync(connection, "telemetry.readings", readings, now, cancellationToken);
            }
        }

        if (states.Count > 0)
        {
            // Reports can arrive out of order after a redelivery: keep the highest version.
            await using var update = new NpgsqlCommand(
                "UPDATE telemetry.devices d SET reported_version = r.version, reported_at = @at "
                + "FROM (SELECT serial, max(version) AS version FROM unnest(@serials, @versions) AS t(serial, version) GROUP BY serial) r "
                + "WHERE d.serial_number = r.serial AND (d.reported_version IS NULL OR d.reported_version <= r.version)", connection);
            update.Parameters.AddWithValue("at", now);
            update.Parameters.AddWithValue("serials", states.Select(s => s.Serial).ToArray());
            update.Parameters.AddWithValue("versions", states.Select(s => s.Version).ToArray());
            await update.ExecuteNonQueryAsync(cancellationToken);
        }

        if (deadLetters.Count > 0)
        {
            await using var import = await connection.BeginBinaryImportAsync(
                "COPY telemetry.dead_letters (received_at, topic, reason, payload) FROM STDIN (FORMAT BINARY)", cancellationToken);
            foreach (var deadLetter in deadLetters)
            {
                await import.StartRowAsync(cancellationToken);
                await import.WriteAsync(now, NpgsqlDbType.TimestampTz, cancellationToken);
                await import.WriteAsync(Truncate(deadLetter.Topic, 300), NpgsqlDbType.Varchar, cancellationToken);
                await import.WriteAsync(Truncate(deadLetter.Reason, 500), NpgsqlDbType.Varchar, cancellationToken);
                await import.WriteAsync(deadLetter.Payload.ToArray(), NpgsqlDbType.Bytea, cancellationToken);
            }

            await import.CompleteAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    private static async Task CopyReadingsAsync(NpgsqlConnection connection, string table, List<Reading> readings, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        await using var import = await connection.BeginBinaryImportAsync($"COPY {table} {ReadingColumns} FROM STDIN (FORMAT BINARY)", cancellationToken);
        // Rows are written with the synchronous calls: they only fill Npgsql's buffer (a full buffer is sent to the local
        // socket), and the 9 awaits per row of the async ones cost more CPU than the whole row otherwise does.
        foreach (var (message, device, _) in readings)
        {
            import.StartRow();
            import.Write(device.DeviceName, NpgsqlDbType.Bigint);
            import.Write(message.SignalDate, NpgsqlDbType.TimestampTz);
            import.Write(device.CustomerId, NpgsqlDbType.Uuid);
            import.Write(message.Latitude, NpgsqlDbType.Double);
            import.Write(message.Longitude, NpgsqlDbType.Double);
            import.Write(message.BatteryLevel, NpgsqlDbType.Double);
            import.Write(message.MetricNames, NpgsqlDbType.Array | NpgsqlDbType.Text);
            import.Write(message.MetricValues, NpgsqlDbType.Array | NpgsqlDbType.Double);
            import.Write(now, NpgsqlDbType.TimestampTz);
        }

        await import.CompleteAsync(cancellationToken);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>SQLSTATE classes 22 (data exception), 23 (integrity) and 54 (program limit): the rows, not the database, are the problem.</summary>
    private static bool IsDataError(PostgresException ex) =>
        ex.SqlState.StartsWith("22", StringComparison.Ordinal) || ex.SqlState.StartsWith("23", StringComparison.Ordinal)
        || ex.SqlState.StartsWith("54", StringComparison.Ordinal);

    private static string? Check(TelemetryMessage message, Dictionary<string, KnownDevice> devices)
    {
        if (!devices.TryGetValue(message.DeviceId, out var device))
            return "no telemetry credentials were issued for this serial";
        if (device.Revoked)
            return "the device's telemetry credentials are revoked";
        if (device.DeviceName != message.DeviceName)
            return $"device_name {message.DeviceName} is not the one issued to this device";
        return null;
    }

    private static async Task<Dictionary<string, KnownDevice>> LoadDevicesAsync(NpgsqlConnection connection, IEnumerable<string> serials,
        CancellationToken cancellationToken)
    {
        var distinct = serials.Distinct(StringComparer.Ordinal).ToArray();
        var devices = new Dictionary<string, KnownDevice>(StringComparer.Ordinal);
        if (distinct.Length == 0)
            return devices;
        await using var command = new NpgsqlCommand(
            "SELECT serial_number, customer_id, device_name, revoked_at IS NOT NULL FROM telemetry.devices WHERE serial_number = ANY(@serials)", connection);
        command.Parameters.AddWithValue("serials", distinct);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            devices[reader.GetString(0)] = new KnownDevice(reader.GetGuid(1), reader.GetInt64(2), reader.GetBoolean(3));
        return devices;
    }

    private static string Truncate(string value, int length) => value.Length <= length ? value : value[..length];
}
