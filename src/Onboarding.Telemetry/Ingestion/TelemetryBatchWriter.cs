using System.Buffers;
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
/// <para>
/// Used by the ingester's own thread, one batch at a time, with synchronous calls on a data source of its own: the thread
/// blocks in the kernel until PostgreSQL answers, instead of every answer waking the socket engine's thread and then a
/// pool thread. It keeps one connection between batches (application_name onboarding-telemetry-ingester).
/// </para>
/// </summary>
internal sealed class TelemetryBatchWriter(NpgsqlDataSource dataSource, TimeProvider clock, ILogger<TelemetryBatchWriter> logger) : IDisposable
{
    public const string ApplicationName = "onboarding-telemetry-ingester";

    private NpgsqlConnection? _connection;

    /// <summary>One batch of readings in COPY's binary format; kept between batches.</summary>
    private readonly ArrayBufferWriter<byte> _copyBuffer = new(128 * 1024);

    private sealed record KnownDevice(Guid CustomerId, long DeviceName, bool Revoked);

    private readonly record struct Reading(TelemetryMessage Message, KnownDevice Device, MqttApplicationMessage Source);

    private readonly record struct DeadLetter(string Topic, string Reason, ReadOnlyMemory<byte> Payload);

    private readonly record struct StateReport(string Serial, int Version);

    /// <summary>
    /// A data source for the writer alone: its connections are only ever used synchronously. The device look-up and the
    /// state-report update run for every batch, so they are prepared once per connection (Max Auto Prepare).
    /// </summary>
    public static NpgsqlDataSource CreateDataSource(string connectionString) =>
        new NpgsqlDataSourceBuilder(connectionString) { ConnectionStringBuilder = { ApplicationName = ApplicationName, MaxAutoPrepare = 8 } }.Build();

    public void Write(IReadOnlyList<MqttApplicationMessage> batch)
    {
        var now = clock.GetUtcNow();
        var deadLetters = new List<DeadLetter>();
        var candidates = new List<(TelemetryMessage Message, MqttApplicationMessage Source)>(batch.Count);
        var states = new List<(StateReport Report, MqttApplicationMessage Source)>();
        foreach (var message in batch)
        {
            switch (TelemetryMessage.ParseTopic(message.Topic, out var serial))
            {
                case TelemetryMessage.Topic.Telemetry:
                    if (TelemetryMessage.Parse(message.Payload.Span, serial!, out var reason) is { } parsed)
                        candidates.Add((parsed, message));
                    else
                        deadLetters.Add(new DeadLetter(message.Topic, reason!, message.Payload));
                    break;
                case TelemetryMessage.Topic.State:
                    if (TelemetryMessage.ParseAppliedVersion(message.Payload, out var stateReason) is { } applied)
                        states.Add((new StateReport(serial!, applied), message));
                    else
                        deadLetters.Add(new DeadLetter(message.Topic, stateReason!, message.Payload));
                    break;
                default:
                    deadLetters.Add(new DeadLetter(message.Topic, $"the topic is not devices/<serial>/telemetry or /state with a serial of at most {TelemetryMessage.MaxSerialLength} characters", message.Payload));
                    break;
            }
        }

        var connection = _connection ??= dataSource.OpenConnection();
        try
        {
            var devices = LoadDevices(connection, candidates.Select(c => c.Message.DeviceId).Concat(states.Select(s => s.Report.Serial)));
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

            Commit(connection, readings, known, deadLetters, now);
        }
        catch
        {
            // Whatever state the connection is in now, the retry starts on a fresh one.
            _connection = null;
            connection.Dispose();
            throw;
        }

        if (deadLetters.Count > 0)
        {
            logger.LogWarning("{Count} telemetry messages dead-lettered, first: {Topic}: {Reason}", deadLetters.Count,
                Truncate(deadLetters[0].Topic, 300), deadLetters[0].Reason);
        }
    }

    public void Dispose()
    {
        _connection?.Dispose();
        _connection = null;
        dataSource.Dispose();
    }

    private void Commit(NpgsqlConnection connection, List<Reading> readings, List<StateReport> states, List<DeadLetter> deadLetters, DateTimeOffset now)
    {
        var throughStaging = false;
        while (true)
        {
            try
            {
                Transact(connection, readings, states, deadLetters, now, throughStaging);
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
                Commit(connection, readings[..half], states, deadLetters, now);
                Commit(connection, readings[half..], [], [], now);
                return;
            }
        }
    }

    private void Transact(NpgsqlConnection connection, List<Reading> readings, List<StateReport> states, List<DeadLetter> deadLetters,
        DateTimeOffset now, bool throughStaging)
    {
        using var transaction = connection.BeginTransaction();
        if (readings.Count > 0)
        {
            if (throughStaging)
            {
                Execute(connection, "CREATE TEMP TABLE IF NOT EXISTS readings_staging (LIKE telemetry.readings INCLUDING DEFAULTS) ON COMMIT DELETE ROWS");
                CopyReadings(connection, "readings_staging", readings, now);
                Execute(connection, "INSERT INTO telemetry.readings SELECT * FROM readings_staging ON CONFLICT (device_name, signal_date) DO NOTHING");
            }
            else
            {
                CopyReadings(connection, "telemetry.readings", readings, now);
            }
        }

        if (states.Count > 0)
        {
            // Reports can arrive out of order after a redelivery: keep the highest version.
            using var update = new NpgsqlCommand(
                "UPDATE telemetry.devices d SET reported_version = r.version, reported_at = @at "
                + "FROM (SELECT serial, max(version) AS version FROM unnest(@serials, @versions) AS t(serial, version) GROUP BY serial) r "
                + "WHERE d.serial_number = r.serial AND (d.reported_version IS NULL OR d.reported_version <= r.version)", connection);
            update.Parameters.AddWithValue("at", now);
            update.Parameters.AddWithValue("serials", states.Select(s => s.Serial).ToArray());
            update.Parameters.AddWithValue("versions", states.Select(s => s.Version).ToArray());
            update.ExecuteNonQuery();
        }

        if (deadLetters.Count > 0)
        {
            using var import = connection.BeginBinaryImport("COPY telemetry.dead_letters (received_at, topic, reason, payload) FROM STDIN (FORMAT BINARY)");
            foreach (var deadLetter in deadLetters)
            {
                import.StartRow();
                import.Write(now, NpgsqlDbType.TimestampTz);
                import.Write(Truncate(deadLetter.Topic, 300), NpgsqlDbType.Varchar);
                import.Write(Truncate(deadLetter.Reason, 500), NpgsqlDbType.Varchar);
                import.Write(deadLetter.Payload.ToArray(), NpgsqlDbType.Bytea);
            }

            import.Complete();
        }

        transaction.Commit();
    }

    private void CopyReadings(NpgsqlConnection connection, string table, List<Reading> readings, DateTimeOffset now)
    {
        _copyBuffer.ResetWrittenCount();
        ReadingCopyFormat.WriteHeader(_copyBuffer);
        foreach (var (message, device, _) in readings)
        {
            ReadingCopyFormat.WriteRow(_copyBuffer, device.DeviceName, message.SignalDate, device.CustomerId, message.Latitude, message.Longitude,
                message.BatteryLevel, message.MetricNames, message.MetricValues, now);
        }
        ReadingCopyFormat.WriteTrailer(_copyBuffer);

        // Disposing the stream ends the COPY; PostgreSQL's verdict on the rows (a data error, a key already stored) is thrown there.
        using var copy = connection.BeginRawBinaryCopy($"COPY {table} {ReadingCopyFormat.Columns} FROM STDIN (FORMAT BINARY)");
        copy.Write(_copyBuffer.WrittenSpan);
    }

    private static void Execute(NpgsqlConnection connection, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
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

    private static Dictionary<string, KnownDevice> LoadDevices(NpgsqlConnection connection, IEnumerable<string> serials)
    {
        var distinct = serials.Distinct(StringComparer.Ordinal).ToArray();
        var devices = new Dictionary<string, KnownDevice>(StringComparer.Ordinal);
        if (distinct.Length == 0)
            return devices;
        using var command = new NpgsqlCommand(
            "SELECT serial_number, customer_id, device_name, revoked_at IS NOT NULL FROM telemetry.devices WHERE serial_number = ANY(@serials)", connection);
        command.Parameters.AddWithValue("serials", distinct);
        using var reader = command.ExecuteReader();
        while (reader.Read())
            devices[reader.GetString(0)] = new KnownDevice(reader.GetGuid(1), reader.GetInt64(2), reader.GetBoolean(3));
        return devices;
    }

    private static string Truncate(string value, int length) => value.Length <= length ? value : value[..length];
}
