using System.Buffers;
using Npgsql;
using NpgsqlTypes;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.Telemetry.Ingestion;

namespace Onboarding.IntegrationTests;

/// <summary>
/// The ingester writes readings in COPY's binary format itself. PostgreSQL must store exactly what Npgsql's typed importer
/// would have stored for the same values: the same rows, and the same keys, so a redelivery still meets its first copy.
/// </summary>
public class ReadingCopyFormatTests
{
    private const string Table = """
        (device_name bigint NOT NULL, signal_date timestamptz NOT NULL, customer_id uuid NOT NULL, latitude double precision NOT NULL,
         longitude double precision NOT NULL, battery_level double precision NOT NULL, metric_names text[] NOT NULL,
         metric_values double precision[] NOT NULL, received_at timestamptz NOT NULL, PRIMARY KEY (device_name, signal_date))
        """;

    private sealed record Row(long DeviceName, DateTimeOffset SignalDate, Guid CustomerId, double Latitude, double Longitude, double Battery,
        string[] Names, double[] Values, DateTimeOffset ReceivedAt);

    private static readonly Row[] Rows =
    [
        new(1000001, new DateTimeOffset(2026, 11, 21, 10, 0, 0, TimeSpan.Zero), Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e"),
            48.1042, 11.57, 73, ["seq", "temperature", "signal_strength"], [2712, 21.5, -71], new DateTimeOffset(2026, 11, 21, 10, 0, 1, TimeSpan.Zero)),
        // No further metrics: empty arrays have no dimensions.
        new(1000002, new DateTimeOffset(2026, 11, 21, 10, 0, 0, TimeSpan.FromHours(2)), Guid.NewGuid(), -90, -180, 0, [], [],
            DateTimeOffset.UtcNow),
        // Ticks below a microsecond are truncated, before 2000 too (negative microseconds).
        new(1000003, new DateTimeOffset(1999, 12, 31, 23, 59, 59, TimeSpan.Zero).AddTicks(9_999_999), Guid.Empty, 90, 180, 100,
            ["température", "湿度", "emoji 🌡", "x"], [double.Epsilon, -0.0, 1e300, -1e-300], new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(7)),
        new(long.MaxValue, new DateTimeOffset(2026, 11, 21, 10, 0, 0, TimeSpan.Zero).AddTicks(15), Guid.Parse("ffffffff-ffff-ffff-ffff-ffffffffffff"),
            1.5, -2.25, 99.999, [new string('m', 64)], [double.MaxValue], DateTimeOffset.MaxValue),
        new(-1, DateTimeOffset.MinValue, Guid.Parse("00000000-0000-0000-0000-000000000001"), 0, 0, 50, ["a", "b"], [1, 2], DateTimeOffset.MinValue),
    ];

    [Fact]
    public async Task Rows_written_in_our_format_equal_those_of_npgsqls_typed_importer()
    {
        var server = await PostgresServer.Instance;
        await using var dataSource = NpgsqlDataSource.Create(await server.CreateEmptyDatabaseAsync("copyformat"));
        await using var connection = await dataSource.OpenConnectionAsync();
        await using (var create = new NpgsqlCommand($"CREATE TABLE theirs {Table}; CREATE TABLE ours {Table}", connection))
            await create.ExecuteNonQueryAsync();

        await using (var import = await connection.BeginBinaryImportAsync($"COPY theirs {ReadingCopyFormat.Columns} FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var row in Rows)
            {
                await import.StartRowAsync();
                await import.WriteAsync(row.DeviceName, NpgsqlDbType.Bigint);
                await import.WriteAsync(row.SignalDate.ToUniversalTime(), NpgsqlDbType.TimestampTz); // Npgsql takes UTC only; ours converts
                await import.WriteAsync(row.CustomerId, NpgsqlDbType.Uuid);
                await import.WriteAsync(row.Latitude, NpgsqlDbType.Double);
                await import.WriteAsync(row.Longitude, NpgsqlDbType.Double);
                await import.WriteAsync(row.Battery, NpgsqlDbType.Double);
                await import.WriteAsync(row.Names, NpgsqlDbType.Array | NpgsqlDbType.Text);
                await import.WriteAsync(row.Values, NpgsqlDbType.Array | NpgsqlDbType.Double);
                await import.WriteAsync(row.ReceivedAt, NpgsqlDbType.TimestampTz);
            }
            await import.CompleteAsync();
        }

        var buffer = new ArrayBufferWriter<byte>();
        ReadingCopyFormat.WriteHeader(buffer);
        foreach (var row in Rows)
        {
            ReadingCopyFormat.WriteRow(buffer, row.DeviceName, row.SignalDate, row.CustomerId, row.Latitude, row.Longitude, row.Battery,
                row.Names, row.Values, row.ReceivedAt);
        }
        ReadingCopyFormat.WriteTrailer(buffer);
        await using (var copy = await connection.BeginRawBinaryCopyAsync($"COPY ours {ReadingCopyFormat.Columns} FROM STDIN (FORMAT BINARY)"))
            await copy.WriteAsync(buffer.WrittenMemory);

        // Row for row identical (also -0.0 against 0, which EXCEPT would equate), and every key already stored.
        await using var compare = new NpgsqlCommand("""
            SELECT (SELECT count(*) FROM ours),
                   (SELECT count(*) FROM (SELECT * FROM ours EXCEPT SELECT * FROM theirs) d),
                   (SELECT count(*) FROM (SELECT * FROM theirs EXCEPT SELECT * FROM ours) d),
                   (SELECT count(*) FROM ours o JOIN theirs t USING (device_name, signal_date)
                    WHERE o.metric_values::text = t.metric_values::text AND o.latitude::text = t.latitude::text)
            """, connection);
        await using var reader = await compare.ExecuteReaderAsync();
        await reader.ReadAsync();
        Assert.Equal(Rows.Length, reader.GetInt64(0));
        Assert.Equal(0, reader.GetInt64(1));
        Assert.Equal(0, reader.GetInt64(2));
        Assert.Equal(Rows.Length, reader.GetInt64(3));
    }

    [Fact]
    public void A_row_needs_a_value_for_every_metric_name()
    {
        var buffer = new ArrayBufferWriter<byte>();

        Assert.Throws<ArgumentException>(() => ReadingCopyFormat.WriteRow(buffer, 1, DateTimeOffset.UtcNow, Guid.Empty, 0, 0, 0, ["a", "b"], [1], DateTimeOffset.UtcNow));
        Assert.Equal(0, buffer.WrittenCount);
    }
}
