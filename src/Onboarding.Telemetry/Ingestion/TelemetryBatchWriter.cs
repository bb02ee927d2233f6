using System.Text;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Onboarding.Mqtt;

namespace Onboarding.Telemetry.Ingestion;

/// <summary>
/// Validates a batch of telemetry messages against the issued credentials and writes it in one transaction:
/// readings by binary COPY into a staging table, then <c>INSERT … ON CONFLICT DO NOTHING</c> (a redelivered message
/// is stored once); messages that cannot be accepted go to the dead letters with the reason and the raw payload.
/// </summary>
internal sealed class TelemetryBatchWriter(NpgsqlDataSource dataSource, TimeProvider clock, ILogger<TelemetryBatchWriter> logger)
{
    private sealed record KnownDevice(Guid CustomerId, long DeviceName, bool Revoked);

    public async Task WriteAsync(IReadOnlyList<MqttApplicationMessage> batch, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var devices = await LoadDevicesAsync(connection, batch, cancellationToken);

        var readings = new List<(TelemetryMessage Message, KnownDevice Device)>(batch.Count);
        var deadLetters = new List<(string Topic, string Reason, byte[] Payload)>();
        var states = new List<(string Serial, int Version)>();
        foreach (var message in batch)
        {
            if (TelemetryMessage.SerialFromTopic(message.Topic, "state") is { } stateSerial)
            {
                var applied = TelemetryMessage.ParseAppliedVersion(message.Payload, out var stateReason);
                if (applied is null || !devices.ContainsKey(stateSerial))
                    deadLetters.Add((message.Topic, stateReason ?? "no telemetry credentials were issued for this serial", message.Payload.ToArray()));
                else
                    states.Add((stateSerial, applied.Value));
                continue;
            }

            var reason = Check(message, devices, out var parsed, out var device);
            if (reason is null)
                readings.Add((parsed!, device!));
            else
                deadLetters.Add((message.Topic, reason, message.Payload.ToArray()));
        }

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (readings.Count > 0)
        {
            await using (var create = new NpgsqlCommand(
                "CREATE TEMP TABLE readings_staging (LIKE telemetry.readings INCLUDING DEFAULTS) ON COMMIT DROP", connection, transaction))
                await create.ExecuteNonQueryAsync(cancellationToken);

            await using (var import = await connection.BeginBinaryImportAsync(
                "COPY readings_staging (serial_number, signal_date, customer_id, device_name, latitude, longitude, battery_level, metrics, received_at) "
                + "FROM STDIN (FORMAT BINARY)", cancellationToken))
            {
                foreach (var (message, device) in readings)
                {
                    await import.StartRowAsync(cancellationToken);
                    await import.WriteAsync(message.DeviceId, NpgsqlDbType.Varchar, cancellationToken);
                    await import.WriteAsync(message.SignalDate, NpgsqlDbType.TimestampTz, cancellationToken);
                    await import.WriteAsync(device.CustomerId, NpgsqlDbType.Uuid, cancellationToken);
                    await import.WriteAsync(device.DeviceName, NpgsqlDbType.Bigint, cancellationToken);
                    await import.WriteAsync(message.Latitude, NpgsqlDbType.Double, cancellationToken);
                    await import.WriteAsync(message.Longitude, NpgsqlDbType.Double, cancellationToken);
                    await import.WriteAsync(message.BatteryLevel, NpgsqlDbType.Double, cancellationToken);
                    await import.WriteAsync(message.MetricsJson, NpgsqlDbType.Jsonb, cancellationToken);
                    await import.WriteAsync(now, NpgsqlDbType.TimestampTz, cancellationToken);
                }

                await import.CompleteAsync(cancellationToken);
            }

            await using var insert = new NpgsqlCommand(
                "INSERT INTO telemetry.readings SELECT * FROM readings_staging ON CONFLICT (serial_number, signal_date) DO NOTHING", connection, transaction);
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        foreach (var (serial, version) in states)
        {
            // Reports can arrive out of order after a redelivery: keep the highest version.
            await using var update = new NpgsqlCommand(
                "UPDATE telemetry.devices SET reported_version = @version, reported_at = @at WHERE serial_number = @serial "
                + "AND (reported_version IS NULL OR reported_version <= @version)", connection, transaction);
            update.Parameters.AddWithValue("version", version);
            update.Parameters.AddWithValue("at", now);
            update.Parameters.AddWithValue("serial", serial);
            await update.ExecuteNonQueryAsync(cancellationToken);
        }

        if (deadLetters.Count > 0)
        {
            await using var import = await connection.BeginBinaryImportAsync(
                "COPY telemetry.dead_letters (received_at, topic, reason, payload) FROM STDIN (FORMAT BINARY)", cancellationToken);
            foreach (var (topic, reason, payload) in deadLetters)
            {
                await import.StartRowAsync(cancellationToken);
                await import.WriteAsync(now, NpgsqlDbType.TimestampTz, cancellationToken);
                await import.WriteAsync(Truncate(topic, 300), NpgsqlDbType.Varchar, cancellationToken);
                await import.WriteAsync(Truncate(reason, 500), NpgsqlDbType.Varchar, cancellationToken);
                await import.WriteAsync(payload, NpgsqlDbType.Bytea, cancellationToken);
            }

            await import.CompleteAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        if (deadLetters.Count > 0)
        {
            logger.LogWarning("{Count} telemetry messages dead-lettered, first: {Topic}: {Reason}", deadLetters.Count,
                Truncate(deadLetters[0].Topic, 300), deadLetters[0].Reason);
        }
    }

    private static string? Check(MqttApplicationMessage message, Dictionary<string, KnownDevice> devices, out TelemetryMessage? parsed,
        out KnownDevice? device)
    {
        parsed = null;
        device = null;
        var serial = TelemetryMessage.SerialFromTopic(message.Topic);
        if (serial is null || serial.Length > 64)
            return "the topic is not devices/<serial>/telemetry";
        parsed = TelemetryMessage.Parse(message.Payload, out var reason);
        if (parsed is null)
            return reason;
        if (!string.Equals(parsed.DeviceId, serial, StringComparison.Ordinal))
            return $"device_id '{Truncate(parsed.DeviceId, 64)}' is not the serial in the topic '{serial}'";
        if (!devices.TryGetValue(serial, out device))
            return "no telemetry credentials were issued for this serial";
        if (device.Revoked)
            return "the device's telemetry credentials are revoked";
        if (device.DeviceName != parsed.DeviceName)
            return $"device_name {parsed.DeviceName} is not the one issued to this device";
        return null;
    }

    private static async Task<Dictionary<string, KnownDevice>> LoadDevicesAsync(NpgsqlConnection connection,
        IReadOnlyList<MqttApplicationMessage> batch, CancellationToken cancellationToken)
    {
        var serials = batch.Select(m => TelemetryMessage.SerialFromTopic(m.Topic) ?? TelemetryMessage.SerialFromTopic(m.Topic, "state")).OfType<string>().Distinct(StringComparer.Ordinal).ToArray();
        var devices = new Dictionary<string, KnownDevice>(StringComparer.Ordinal);
        if (serials.Length == 0)
            return devices;
        await using var command = new NpgsqlCommand(
            "SELECT serial_number, customer_id, device_name, revoked_at IS NOT NULL FROM telemetry.devices WHERE serial_number = ANY(@serials)", connection);
        command.Parameters.AddWithValue("serials", serials);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            devices[reader.GetString(0)] = new KnownDevice(reader.GetGuid(1), reader.GetInt64(2), reader.GetBoolean(3));
        return devices;
    }

    private static string Truncate(string value, int length)
    {
        if (value.Length <= length)
            return value;
        var builder = new StringBuilder(value, 0, length, length);
        return builder.ToString();
    }
}
