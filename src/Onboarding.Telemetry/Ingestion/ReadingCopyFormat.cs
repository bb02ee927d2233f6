using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Onboarding.Telemetry.Ingestion;

/// <summary>
/// Readings in PostgreSQL's binary COPY format (PostgreSQL documentation, COPY, "Binary Format"), written into one buffer
/// per batch and sent with Npgsql's raw binary copy. Npgsql's typed importer resolves a converter and binds a parameter
/// for each of the nine values of every row, and its array converter is generic: on the ingester's thread that was most of
/// the cost of a row. Every value is encoded as Npgsql encodes it (a test compares the stored rows of both).
/// </summary>
internal static class ReadingCopyFormat
{
    public const string Columns =
        "(device_name, signal_date, customer_id, latitude, longitude, battery_level, metric_names, metric_values, received_at)";

    private const short FieldCount = 9;
    private const int TextOid = 25;
    private const int Float8Oid = 701;
    private const int ArrayHeaderLength = 20; // ndim, flags, element type, then (length, lower bound) of the one dimension

    /// <summary>PostgreSQL timestamps count microseconds from 2000-01-01 00:00 UTC.</summary>
    private static readonly long PostgresEpochTicks = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;

    /// <summary>"PGCOPY\n\377\r\n\0", then the flags field and the header extension length, both 0.</summary>
    private static ReadOnlySpan<byte> Header => [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00, 0, 0, 0, 0, 0, 0, 0, 0];

    public static void WriteHeader(IBufferWriter<byte> output) => output.Write(Header);

    /// <summary>The file trailer: a field count of -1.</summary>
    public static void WriteTrailer(IBufferWriter<byte> output)
    {
        BinaryPrimitives.WriteInt16BigEndian(output.GetSpan(2), -1);
        output.Advance(2);
    }

    public static void WriteRow(IBufferWriter<byte> output, long deviceName, DateTimeOffset signalDate, Guid customerId,
        double latitude, double longitude, double batteryLevel, string[] metricNames, double[] metricValues, DateTimeOffset receivedAt)
    {
        if (metricNames.Length != metricValues.Length)
            throw new ArgumentException("every metric name needs its value", nameof(metricValues));
        var namesLength = ArrayLength(metricNames.Length);
        foreach (var name in metricNames)
            namesLength += 4 + Encoding.UTF8.GetByteCount(name);
        var valuesLength = ArrayLength(metricValues.Length) + (metricValues.Length * 12);
        var length = 2 + (6 * 12) + (4 + 16) + (4 + namesLength) + (4 + valuesLength);

        var row = output.GetSpan(length);
        var at = 0;
        Int16(row, ref at, FieldCount);
        Int64Field(row, ref at, deviceName);
        Int64Field(row, ref at, Timestamp(signalDate));
        Int32(row, ref at, 16);
        customerId.TryWriteBytes(row[at..], bigEndian: true, out _);
        at += 16;
        Int64Field(row, ref at, BitConverter.DoubleToInt64Bits(latitude));
        Int64Field(row, ref at, BitConverter.DoubleToInt64Bits(longitude));
        Int64Field(row, ref at, BitConverter.DoubleToInt64Bits(batteryLevel));

        Int32(row, ref at, namesLength);
        ArrayHeader(row, ref at, metricNames.Length, TextOid);
        foreach (var name in metricNames)
        {
            var written = Encoding.UTF8.GetBytes(name, row[(at + 4)..]);
            Int32(row, ref at, written);
            at += written;
        }

        Int32(row, ref at, valuesLength);
        ArrayHeader(row, ref at, metricValues.Length, Float8Oid);
        foreach (var value in metricValues)
            Int64Field(row, ref at, BitConverter.DoubleToInt64Bits(value));

        Int64Field(row, ref at, Timestamp(receivedAt));
        output.Advance(at);
    }

    /// <summary>As Npgsql encodes a timestamptz: ticks truncated to microseconds, and the extremes as ±infinity.</summary>
    internal static long Timestamp(DateTimeOffset value) => value.UtcTicks switch
    {
        var ticks when ticks == DateTime.MinValue.Ticks => long.MinValue,
        var ticks when ticks == DateTime.MaxValue.Ticks => long.MaxValue,
        var ticks => (ticks - PostgresEpochTicks) / 10,
    };

    /// <summary>A one-dimensional array's header; an empty array has no dimensions.</summary>
    private static int ArrayLength(int count) => count == 0 ? 12 : ArrayHeaderLength;

    private static void ArrayHeader(Span<byte> row, ref int at, int count, int elementOid)
    {
        Int32(row, ref at, count == 0 ? 0 : 1);
        Int32(row, ref at, 0); // no nulls
        Int32(row, ref at, elementOid);
        if (count == 0)
            return;
        Int32(row, ref at, count);
        Int32(row, ref at, 1); // lower bound
    }

    /// <summary>An 8-byte field: its length, then the value.</summary>
    private static void Int64Field(Span<byte> row, ref int at, long value)
    {
        Int32(row, ref at, 8);
        BinaryPrimitives.WriteInt64BigEndian(row[at..], value);
        at += 8;
    }

    private static void Int32(Span<byte> row, ref int at, int value)
    {
        BinaryPrimitives.WriteInt32BigEndian(row[at..], value);
        at += 4;
    }

    private static void Int16(Span<byte> row, ref int at, short value)
    {
        BinaryPrimitives.WriteInt16BigEndian(row[at..], value);
        at += 2;
    }
}
