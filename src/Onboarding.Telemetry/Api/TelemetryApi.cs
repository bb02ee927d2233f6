using System.Globalization;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using Onboarding.Accounts.Contracts;
using Onboarding.Inventory.Contracts;
using Onboarding.ServiceDefaults.Http;
using Onboarding.Telemetry.Data;

namespace Onboarding.Telemetry.Api;

/// <summary>A customer's telemetry: raw readings (paged or CSV), the latest reading per device and hourly aggregates.</summary>
internal static class TelemetryApi
{
    public static void MapTelemetryApi(this IEndpointRouteBuilder endpoints)
    {
        var devices = endpoints.MapGroup("/api/devices").WithTags("Telemetry").RequireAuthorization();
        devices.MapGet("/{serial}/telemetry", List)
            .WithName("ListTelemetry")
            .WithSummary("One device's readings between from and to (signal_date), newest first; paginated.");
        devices.MapGet("/{serial}/telemetry/latest", Latest)
            .WithName("LatestTelemetry")
            .WithSummary("One device's most recent reading.");
        devices.MapGet("/{serial}/telemetry/hourly", Hourly)
            .WithName("HourlyTelemetry")
            .WithSummary("Hourly count/avg/min/max of battery_level, latitude, longitude and every extra metric.");
        devices.MapGet("/{serial}/telemetry.csv", ExportCsv)
            .WithName("ExportTelemetryCsv")
            .WithSummary("One device's readings between from and to as CSV, oldest first (streamed, no row limit).");

        devices.MapGet("/{serial}/twin", Twin)
            .WithName("GetDeviceTwin")
            .WithSummary("The device's desired configuration version and function against the version it reported applying.");

        var fleet = endpoints.MapGroup("/api/telemetry").WithTags("Telemetry").RequireAuthorization();
        fleet.MapGet("/latest", LatestPerDevice)
            .WithName("LatestTelemetryPerDevice")
            .WithSummary("The most recent reading of each of the caller's devices.");
        fleet.MapGet("/readings.csv", ExportFleetCsv)
            .WithName("ExportFleetTelemetryCsv")
            .WithSummary("All of the caller's readings between from and to as CSV (for Spark and the like): device by device, each oldest first; streamed, no row limit.");
    }

    /// <summary>The caller's readings of one device: readings are keyed by the device name issued to the device.</summary>
    private static async Task<IQueryable<Reading>> RangeAsync(TelemetryDbContext db, Guid customerId, DeviceId deviceId, DateTimeOffset? from, DateTimeOffset? to,
        CancellationToken cancellationToken)
    {
        var deviceName = await DeviceNameAsync(db, deviceId, cancellationToken);
        var query = db.Readings.AsNoTracking().Where(r => r.CustomerId == customerId && r.DeviceName == (deviceName ?? -1));
        if (from is { } f)
            query = query.Where(r => r.SignalDate >= f.ToUniversalTime());
        if (to is { } t)
            query = query.Where(r => r.SignalDate < t.ToUniversalTime());
        return query;
    }

    /// <summary>The number issued to the device with its telemetry credentials: readings are keyed by it.</summary>
    private static Task<long?> DeviceNameAsync(TelemetryDbContext db, DeviceId deviceId, CancellationToken cancellationToken) =>
        db.Devices.Where(d => d.DeviceId == deviceId).Select(d => (long?)d.DeviceName).SingleOrDefaultAsync(cancellationToken);

    /// <summary>Every time range is [from, to): an empty or inverted one is refused, on every endpoint that takes one.</summary>
    private static Dictionary<string, string[]> RangeErrors(DateTimeOffset? from, DateTimeOffset? to) =>
        from is { } f && to is { } t && f >= t ? new() { ["to"] = ["to must be after from."] } : [];

    private static ProblemHttpResult NoSuchDevice() =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Device not found", detail: "You have no device with that serial number.");

    /// <summary>The caller's device with that serial, resolved by the device module: a serial means something only within one customer.</summary>
    private static async Task<DeviceId?> CallersDeviceAsync(IDeviceDirectory directory, ClaimsPrincipal user, string serial, CancellationToken cancellationToken) =>
        (await directory.FindAsync(user.GetCustomerId(), serial, cancellationToken))?.Id;

    private static async Task<Results<Ok<PagedList<TelemetryReading>>, ValidationProblem, ProblemHttpResult>> List(
        string serial, ClaimsPrincipal user, TelemetryDbContext db, IDeviceDirectory directory, CancellationToken cancellationToken,
        DateTimeOffset? from = null, DateTimeOffset? to = null, int page = 1, int pageSize = 100)
    {
        var errors = RangeErrors(from, to);
        var skip = Paging.Validate(page, pageSize, errors);
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);
        if (await CallersDeviceAsync(directory, user, serial, cancellationToken) is not { } deviceId)
            return NoSuchDevice();

        var query = await RangeAsync(db, user.GetCustomerId(), deviceId, from, to, cancellationToken);
        var total = await query.CountAsync(cancellationToken);
        var rows = await query.OrderByDescending(r => r.SignalDate).Skip(skip).Take(pageSize).ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedList<TelemetryReading>([.. rows.Select(r => ToView(serial, r))], page, pageSize, total));
    }

    private static async Task<Results<Ok<TelemetryReading>, ProblemHttpResult>> Latest(
        string serial, ClaimsPrincipal user, TelemetryDbContext db, IDeviceDirectory directory, CancellationToken cancellationToken)
    {
        var deviceId = await CallersDeviceAsync(directory, user, serial, cancellationToken);
        var row = deviceId is { } id
            ? await (await RangeAsync(db, user.GetCustomerId(), id, null, null, cancellationToken)).OrderByDescending(r => r.SignalDate).FirstOrDefaultAsync(cancellationToken)
            : null;
        return row is null
            ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No telemetry", detail: "You have no telemetry from a device with that serial number.")
            : TypedResults.Ok(ToView(serial, row));
    }

    private static async Task<Ok<List<TelemetryReading>>> LatestPerDevice(ClaimsPrincipal user, TelemetryDbContext db, CancellationToken cancellationToken)
    {
        var customerId = user.GetCustomerId();
        // One backward primary-key probe per device of the customer (a lateral join), however many readings they have.
        var rows = await (
            from d in db.Devices.AsNoTracking().Where(d => d.CustomerId == customerId)
            from r in db.Readings.AsNoTracking().Where(r => r.DeviceName == d.DeviceName && r.CustomerId == customerId)
                .OrderByDescending(r => r.SignalDate).Take(1)
            orderby d.SerialNumber
            select new { d.SerialNumber, Reading = r }).ToListAsync(cancellationToken);
        return TypedResults.Ok(rows.Select(row => ToView(row.SerialNumber, row.Reading)).ToList());
    }

    private static async Task<Results<Ok<DeviceTwin>, ProblemHttpResult>> Twin(
        string serial, ClaimsPrincipal user, TelemetryDbContext db, IDeviceDirectory directory, IOptions<TelemetryOptions> options,
        CancellationToken cancellationToken)
    {
        var deviceId = await CallersDeviceAsync(directory, user, serial, cancellationToken);
        var device = deviceId is { } id ? await db.Devices.AsNoTracking().SingleOrDefaultAsync(d => d.DeviceId == id, cancellationToken) : null;
        if (device is null)
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No telemetry device", detail: "You have no device with telemetry credentials and that serial number.");
        return TypedResults.Ok(new DeviceTwin(serial, device.DeviceFunction ?? options.Value.DefaultDeviceFunction, device.DesiredVersion,
            device.ReportedVersion, device.ReportedAt, device.ReportedVersion == device.DesiredVersion));
    }

    private static async Task<Results<Ok<List<HourlyAggregate>>, ValidationProblem, ProblemHttpResult>> Hourly(
        string serial, ClaimsPrincipal user, NpgsqlDataSource dataSource, IDeviceDirectory directory, CancellationToken cancellationToken,
        DateTimeOffset? from = null, DateTimeOffset? to = null)
    {
        if (RangeErrors(from, to) is { Count: > 0 } errors)
            return TypedResults.ValidationProblem(errors);
        if (await CallersDeviceAsync(directory, user, serial, cancellationToken) is not { } deviceId)
            return NoSuchDevice();

        await using var command = dataSource.CreateCommand("""
            SELECT date_trunc('hour', r.signal_date) AS hour, m.key, count(*), avg(m.value), min(m.value), max(m.value)
            FROM telemetry.readings r
            CROSS JOIN LATERAL (
                SELECT 'battery_level' AS key, r.battery_level AS value
                UNION ALL SELECT 'latitude', r.latitude
                UNION ALL SELECT 'longitude', r.longitude
                UNION ALL SELECT e.name, e.value FROM unnest(r.metric_names, r.metric_values) AS e(name, value)) m
            WHERE r.customer_id = $1 AND r.device_name = (SELECT d.device_name FROM telemetry.devices d WHERE d.device_id = $2)
              AND ($3::timestamptz IS NULL OR r.signal_date >= $3) AND ($4::timestamptz IS NULL OR r.signal_date < $4)
            GROUP BY 1, 2 ORDER BY 1, 2
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = user.GetCustomerId() });
        command.Parameters.Add(new NpgsqlParameter { Value = deviceId.Value });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)from?.ToUniversalTime() ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)to?.ToUniversalTime() ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        var result = new List<HourlyAggregate>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(new HourlyAggregate(reader.GetFieldValue<DateTimeOffset>(0), reader.GetString(1), reader.GetInt64(2),
                reader.GetDouble(3), reader.GetDouble(4), reader.GetDouble(5)));
        }

        return TypedResults.Ok(result);
    }

    private static async Task<Results<PushStreamHttpResult, ValidationProblem, ProblemHttpResult>> ExportCsv(
        string serial, ClaimsPrincipal user, TelemetryDbContext db, NpgsqlDataSource dataSource, IDeviceDirectory directory, CancellationToken cancellationToken,
        DateTimeOffset? from = null, DateTimeOffset? to = null)
    {
        if (RangeErrors(from, to) is { Count: > 0 } errors)
            return TypedResults.ValidationProblem(errors);
        if (await CallersDeviceAsync(directory, user, serial, cancellationToken) is not { } deviceId)
            return NoSuchDevice();

        List<CsvDevice> devices = await DeviceNameAsync(db, deviceId, cancellationToken) is { } deviceName ? [new(serial, deviceName)] : [];
        return Csv(dataSource, user.GetCustomerId(), devices, from, to, $"telemetry-{serial}.csv", cancellationToken);
    }

    private static async Task<Results<PushStreamHttpResult, ValidationProblem, ProblemHttpResult>> ExportFleetCsv(
        ClaimsPrincipal user, TelemetryDbContext db, NpgsqlDataSource dataSource, CancellationToken cancellationToken,
        DateTimeOffset? from = null, DateTimeOffset? to = null)
    {
        if (RangeErrors(from, to) is { Count: > 0 } errors)
            return TypedResults.ValidationProblem(errors);
        var customerId = user.GetCustomerId();
        var devices = await db.Devices.AsNoTracking().Where(d => d.CustomerId == customerId).OrderBy(d => d.SerialNumber)
            .Select(d => new CsvDevice(d.SerialNumber, d.DeviceName)).ToListAsync(cancellationToken);
        return Csv(dataSource, customerId, devices, from, to, "telemetry.csv", cancellationToken);
    }


    private sealed record CsvDevice(string Serial, long DeviceName);

    /// <summary>
    /// Readings as CSV, streamed from PostgreSQL to the response device by device, each along its primary key in signal_date
    /// order: no row limit, and the host's memory stays flat however long the range.
    /// </summary>
    private static PushStreamHttpResult Csv(NpgsqlDataSource dataSource, Guid customerId, List<CsvDevice> devices, DateTimeOffset? from,
        DateTimeOffset? to, string fileName, CancellationToken requestAborted) =>
        TypedResults.Stream(async body =>
        {
            await using var writer = new StreamWriter(body, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 64 * 1024);
            await writer.WriteAsync("device_id,device_name,signal_date,latitude,longitude,battery_level,metrics\n");
            await using var connection = await dataSource.OpenConnectionAsync(requestAborted);
            foreach (var device in devices)
            {
                await using var command = new NpgsqlCommand("""
                    SELECT signal_date, latitude, longitude, battery_level, metric_names, metric_values FROM telemetry.readings
                    WHERE device_name = $1 AND customer_id = $2
                      AND ($3::timestamptz IS NULL OR signal_date >= $3) AND ($4::timestamptz IS NULL OR signal_date < $4)
                    ORDER BY signal_date
                    """, connection);
                command.Parameters.Add(new NpgsqlParameter { Value = device.DeviceName });
                command.Parameters.Add(new NpgsqlParameter { Value = customerId });
                command.Parameters.Add(new NpgsqlParameter { Value = (object?)from?.ToUniversalTime() ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
                command.Parameters.Add(new NpgsqlParameter { Value = (object?)to?.ToUniversalTime() ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
                var prefix = Api.Csv.Field(device.Serial) + "," + device.DeviceName.ToString(CultureInfo.InvariantCulture) + ",";
                await using var reader = await command.ExecuteReaderAsync(requestAborted);
                while (await reader.ReadAsync(requestAborted))
                {
                    var metrics = Metrics(reader.GetFieldValue<string[]>(4), reader.GetFieldValue<double[]>(5));
                    await writer.WriteAsync(string.Create(CultureInfo.InvariantCulture,
                        $"{prefix}{reader.GetFieldValue<DateTimeOffset>(0).UtcDateTime:yyyy-MM-ddTHH:mm:ss.ffffffZ},{reader.GetDouble(1):R},{reader.GetDouble(2):R},{reader.GetDouble(3):R},{Api.Csv.Field(JsonSerializer.Serialize(metrics))}\n"));
                }
            }
        }, "text/csv", fileName);

    private static TelemetryReading ToView(string serial, Reading r) =>
        new(serial, r.DeviceName, r.SignalDate, r.Latitude, r.Longitude, r.BatteryLevel, Metrics(r.MetricNames, r.MetricValues), r.ReceivedAt);

    /// <summary>The further metrics as a name → value object (names are unique: the ingester refuses a repeated one).</summary>
    private static Dictionary<string, double> Metrics(string[] names, double[] values)
    {
        var metrics = new Dictionary<string, double>(names.Length, StringComparer.Ordinal);
        for (var i = 0; i < names.Length && i < values.Length; i++)
            metrics[names[i]] = values[i];
        return metrics;
    }
}
