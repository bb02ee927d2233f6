using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using Onboarding.Redirect.Data;

namespace Onboarding.Redirect.Orders;

/// <summary>
/// Checks a bulk of well-formed order lines against the database and stores them all or none. The checks are one query
/// each (profiles, device types, live serials), and the rows go in with binary COPY (orders, then their first timeline
/// entries): a fixed number of round trips per call, whatever its size.
/// </summary>
internal static class OrderBulkWriter
{
    public static async Task ValidateAsync(RedirectDbContext db, Guid manufacturerId, OrderLines parsed, CancellationToken cancellationToken)
    {
        var firstLine = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var line in parsed.Lines)
        {
            if (!firstLine.TryAdd(line.SerialNumber, line.Line))
                parsed.AddError(line.Line, $"Serial {line.SerialNumber} is also on {parsed.Unit} {firstLine[line.SerialNumber]}.");
        }

        var profileIds = parsed.Lines.Select(l => l.NmsProfileId).Distinct().ToList();
        var knownProfiles = (await db.NmsProfiles.Where(p => p.ManufacturerId == manufacturerId && profileIds.Contains(p.Id))
            .Select(p => p.Id).ToListAsync(cancellationToken)).ToHashSet();
        var typeIds = parsed.Lines.Where(l => l.DeviceTypeId is not null).Select(l => l.DeviceTypeId!.Value).Distinct().ToList();
        var knownTypes = typeIds.Count == 0 ? [] : (await db.DeviceTypes.Where(t => t.ManufacturerId == manufacturerId && typeIds.Contains(t.Id))
            .Select(t => t.Id).ToListAsync(cancellationToken)).ToHashSet();
        var serials = firstLine.Keys.ToList();
        var ordered = (await db.Orders.Where(o => o.ManufacturerId == manufacturerId && o.State != OrderState.Cancelled && serials.Contains(o.SerialNumber))
            .Select(o => o.SerialNumber).ToListAsync(cancellationToken)).ToHashSet(StringComparer.Ordinal);

        foreach (var line in parsed.Lines)
        {
            if (!knownProfiles.Contains(line.NmsProfileId))
                parsed.AddError(line.Line, $"No NMS profile {line.NmsProfileId}.");
            if (line.DeviceTypeId is { } type && !knownTypes.Contains(type))
                parsed.AddError(line.Line, $"No device type {type}.");
            if (ordered.Contains(line.SerialNumber))
                parsed.AddError(line.Line, $"Serial {line.SerialNumber} is already ordered (a live order exists).");
        }
    }

    /// <summary>Stores the lines as Ordered orders with their first timeline entry; throws on a unique violation (a concurrent order).</summary>
    public static async Task<int> WriteAsync(RedirectDbContext db, Guid manufacturerId, IReadOnlyList<OrderLine> lines, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            var connection = (NpgsqlConnection)db.Database.GetDbConnection();
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var at = now.UtcDateTime;
            var ids = lines.Select(_ => Guid.CreateVersion7()).ToArray();

            await using (var orders = await connection.BeginBinaryImportAsync(
                "COPY redirect.orders (id, manufacturer_id, serial_number, nms_profile_id, device_type_id, state, created_at, updated_at) FROM STDIN (FORMAT BINARY)",
                cancellationToken))
            {
                for (var i = 0; i < lines.Count; i++)
                {
                    await orders.StartRowAsync(cancellationToken);
                    await orders.WriteAsync(ids[i], NpgsqlDbType.Uuid, cancellationToken);
                    await orders.WriteAsync(manufacturerId, NpgsqlDbType.Uuid, cancellationToken);
                    await orders.WriteAsync(lines[i].SerialNumber, NpgsqlDbType.Varchar, cancellationToken);
                    await orders.WriteAsync(lines[i].NmsProfileId, NpgsqlDbType.Uuid, cancellationToken);
                    if (lines[i].DeviceTypeId is { } type)
                        await orders.WriteAsync(type, NpgsqlDbType.Uuid, cancellationToken);
                    else
                        await orders.WriteNullAsync(cancellationToken);
                    await orders.WriteAsync(nameof(OrderState.Ordered), NpgsqlDbType.Varchar, cancellationToken);
                    await orders.WriteAsync(at, NpgsqlDbType.TimestampTz, cancellationToken);
                    await orders.WriteAsync(at, NpgsqlDbType.TimestampTz, cancellationToken);
                }

                await orders.CompleteAsync(cancellationToken);
            }

            await using (var events = await connection.BeginBinaryImportAsync(
                "COPY redirect.order_events (order_id, state, at, detail) FROM STDIN (FORMAT BINARY)", cancellationToken))
            {
                foreach (var id in ids)
                {
                    await events.StartRowAsync(cancellationToken);
                    await events.WriteAsync(id, NpgsqlDbType.Uuid, cancellationToken);
                    await events.WriteAsync(nameof(OrderState.Ordered), NpgsqlDbType.Varchar, cancellationToken);
                    await events.WriteAsync(at, NpgsqlDbType.TimestampTz, cancellationToken);
                    await events.WriteAsync("bulk order", NpgsqlDbType.Varchar, cancellationToken);
                }

                await events.CompleteAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            return lines.Count;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }
}
