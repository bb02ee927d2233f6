using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Onboarding.Redirect.Data;
using Onboarding.Redirect.Orders;
using Onboarding.Redirect.Security;
using Onboarding.ServiceDefaults.Http;
using Onboarding.ServiceDefaults.Database;

namespace Onboarding.Redirect.Api;

/// <summary>Orders: which NMS profile (and device type) a serial was sold to, with the order's own timeline.</summary>
internal static class OrdersApi
{
    public static void MapOrdersApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/redirect/orders").WithTags("Redirect: orders").RequireAuthorization(ManufacturerClaims.Policy)
            .WithMetadata(new SecuritySchemeMetadata(ManufacturerClaims.OpenApiScheme));

        group.MapPost("/", Create)
            .WithName("CreateOrder")
            .WithSummary("Order one serial for an NMS profile (optionally a device type); a live order for the serial is a 409.");
        group.MapPost("/bulk", CreateBulk)
            .WithName("CreateOrdersInBulk")
            .WithSummary("Order many serials at once from text/csv (header serialNumber,nmsProfileId[,deviceTypeId]) or a JSON array; "
                + "all or nothing: any error is a 400 listing every bad line, and nothing is stored.")
            .Accepts<List<OrderRequest>>("application/json", "text/csv");
        group.MapGet("/", List)
            .WithName("ListOrders")
            .WithSummary("The calling manufacturer's orders, oldest first, filtered by state, NMS profile or serial.");
        group.MapGet("/{id:guid}", Get)
            .WithName("GetOrder")
            .WithSummary("One order with its timeline.");
        group.MapPut("/{id:guid}", Update)
            .WithName("UpdateOrder")
            .WithSummary("Move an order to another NMS profile (until the device has been handed off).");
        group.MapPost("/{id:guid}/cancel", Cancel)
            .WithName("CancelOrder")
            .WithSummary("Cancel an order (until the device has been handed off); the serial can then be ordered again.");
    }

    private static async Task<Results<Created<OrderView>, ValidationProblem, ProblemHttpResult>> Create(
        OrderRequest request, ClaimsPrincipal user, RedirectDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var manufacturerId = user.GetManufacturerId();
        var errors = new FieldErrors();
        if (OrderLines.CheckSerial(request.SerialNumber) is { } serialError)
            errors.Add("serialNumber", serialError);
        var profileId = await OwnedProfileAsync(db, manufacturerId, request.NmsProfileId, errors, cancellationToken);
        Guid? typeId = null;
        if (!string.IsNullOrEmpty(request.DeviceTypeId))
        {
            if (!Guid.TryParse(request.DeviceTypeId, out var parsed))
                errors.Add("deviceTypeId", "Must be a UUID.");
            else if (!await db.DeviceTypes.AnyAsync(t => t.Id == parsed && t.ManufacturerId == manufacturerId, cancellationToken))
                errors.Add("deviceTypeId", $"No device type {parsed}.");
            else
                typeId = parsed;
        }

        if (!errors.IsValid)
            return TypedResults.ValidationProblem(errors.Errors);

        if (await db.Orders.AnyAsync(o => o.ManufacturerId == manufacturerId && o.SerialNumber == request.SerialNumber && o.State != OrderState.Cancelled, cancellationToken))
            return DeviceTypesApi.Conflict($"Serial {request.SerialNumber} is already ordered (a live order exists).");

        var now = clock.GetUtcNow().ToPostgresPrecision();
        var order = new Order
        {
            Id = Guid.CreateVersion7(),
            ManufacturerId = manufacturerId,
            SerialNumber = request.SerialNumber!,
            NmsProfileId = profileId!.Value,
            DeviceTypeId = typeId,
            State = OrderState.Ordered,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Orders.Add(order);
        db.OrderEvents.Add(new OrderEvent { OrderId = order.Id, State = OrderState.Ordered, At = now, Detail = "order" });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            // Ordered concurrently between the check and the insert.
            return DeviceTypesApi.Conflict($"Serial {order.SerialNumber} is already ordered (a live order exists).");
        }

        return TypedResults.Created($"/api/redirect/orders/{order.Id}", View(order));
    }

    private static async Task<Results<Created<BulkOrdersCreated>, ValidationProblem, ProblemHttpResult>> CreateBulk(
        HttpRequest request, ClaimsPrincipal user, RedirectDbContext db, TimeProvider clock, IOptions<RedirectOptions> options,
        ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var manufacturerId = user.GetManufacturerId();
        var mediaType = request.ContentType is { } contentType ? contentType.Split(';')[0].Trim().ToLowerInvariant() : "";
        OrderLines parsed;
        if (mediaType == "text/csv")
        {
            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            parsed = OrderLines.ParseCsv(await reader.ReadToEndAsync(cancellationToken));
        }
        else if (mediaType == "application/json")
        {
            try
            {
                using var document = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
                parsed = OrderLines.ParseJson(document.RootElement);
            }
            catch (JsonException ex)
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [$"Not valid JSON: {ex.Message}"] });
            }
        }
        else
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type",
                detail: "Send text/csv or application/json.");
        }

        var count = parsed.Lines.Count + parsed.Errors.Count;
        if (count == 0)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = ["No orders."] });
        if (count > options.Value.MaxBulkOrders)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [$"At most {options.Value.MaxBulkOrders} orders per call; this one has {count}."] });

        await OrderBulkWriter.ValidateAsync(db, manufacturerId, parsed, cancellationToken);
        if (parsed.Errors.Count > 0)
            return TypedResults.ValidationProblem(parsed.ToProblemErrors(), title: $"{parsed.Errors.Count} of {count} {parsed.Unit}s have errors; nothing was stored.");

        int created;
        try
        {
            created = await OrderBulkWriter.WriteAsync(db, manufacturerId, parsed.Lines, clock.GetUtcNow().ToPostgresPrecision(), cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // Another call ordered one of these serials between the check and the COPY; nothing of this call was stored.
            return DeviceTypesApi.Conflict("A serial of this request was ordered concurrently; nothing was stored. Send the request again to see which.");
        }

        loggers.CreateLogger(typeof(OrdersApi)).LogInformation("Redirect manufacturer {ManufacturerId} ordered {Count} devices in bulk", manufacturerId, created);
        return TypedResults.Created("/api/redirect/orders", new BulkOrdersCreated(created));
    }

    private static async Task<Results<Ok<PagedList<OrderView>>, ValidationProblem>> List(
        ClaimsPrincipal user, RedirectDbContext db, string? state, Guid? nmsProfileId, string? serial, CancellationToken cancellationToken,
        int page = 1, int pageSize = 100)
    {
        var manufacturerId = user.GetManufacturerId();
        var errors = new Dictionary<string, string[]>();
        var skip = Paging.Validate(page, pageSize, errors);
        OrderState? stateFilter = null;
        if (state is not null)
        {
            var known = Enum.GetValues<OrderState>().Where(s => string.Equals(s.ToString(), state, StringComparison.OrdinalIgnoreCase)).ToList();
            if (known.Count == 0)
                errors["state"] = [$"One of {string.Join(", ", Enum.GetNames<OrderState>())}."];
            else
                stateFilter = known[0];
        }

        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);

        var query = db.Orders.AsNoTracking().Where(o => o.ManufacturerId == manufacturerId);
        if (stateFilter is { } s)
            query = query.Where(o => o.State == s);
        if (nmsProfileId is { } profile)
            query = query.Where(o => o.NmsProfileId == profile);
        if (!string.IsNullOrEmpty(serial))
            query = query.Where(o => o.SerialNumber == serial);
        var total = await query.CountAsync(cancellationToken);
        var orders = await query.OrderBy(o => o.CreatedAt).ThenBy(o => o.Id).Skip(skip).Take(pageSize).ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedList<OrderView>([.. orders.Select(View)], page, pageSize, total));
    }

    private static async Task<Results<Ok<OrderDetail>, NotFound>> Get(Guid id, ClaimsPrincipal user, RedirectDbContext db, CancellationToken cancellationToken)
    {
        var manufacturerId = user.GetManufacturerId();
        var order = await db.Orders.AsNoTracking().SingleOrDefaultAsync(o => o.Id == id && o.ManufacturerId == manufacturerId, cancellationToken);
        if (order is null)
            return TypedResults.NotFound();
        var timeline = await db.OrderEvents.AsNoTracking().Where(e => e.OrderId == id).OrderBy(e => e.Id)
            .Select(e => new OrderEventView(e.State, e.At, e.Detail)).ToListAsync(cancellationToken);
        return TypedResults.Ok(new OrderDetail(View(order), timeline));
    }

    private static async Task<Results<Ok<OrderView>, NotFound, ValidationProblem, ProblemHttpResult>> Update(
        Guid id, OrderUpdateRequest request, ClaimsPrincipal user, RedirectDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var manufacturerId = user.GetManufacturerId();
        var order = await db.Orders.SingleOrDefaultAsync(o => o.Id == id && o.ManufacturerId == manufacturerId, cancellationToken);
        if (order is null)
            return TypedResults.NotFound();
        var errors = new FieldErrors();
        var profileId = await OwnedProfileAsync(db, manufacturerId, request.NmsProfileId, errors, cancellationToken);
        if (!errors.IsValid)
            return TypedResults.ValidationProblem(errors.Errors);
        if (order.State is not (OrderState.Ordered or OrderState.Authenticated))
            return DeviceTypesApi.Conflict($"An order in state {order.State} cannot move to another NMS profile: the device was handed off already, or the order is cancelled.");

        order.NmsProfileId = profileId!.Value;
        order.UpdatedAt = clock.GetUtcNow().ToPostgresPrecision();
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(View(order));
    }

    private static async Task<Results<Ok<OrderView>, NotFound, ProblemHttpResult>> Cancel(
        Guid id, ClaimsPrincipal user, RedirectDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var manufacturerId = user.GetManufacturerId();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // Locked, so a device step and a cancellation cannot both read the old state.
        var order = await db.Orders.FromSqlInterpolated($"SELECT * FROM redirect.orders WHERE id = {id} AND manufacturer_id = {manufacturerId} FOR UPDATE")
            .SingleOrDefaultAsync(cancellationToken);
        if (order is null)
            return TypedResults.NotFound();
        try
        {
            OrderTimeline.Apply(db, order, OrderState.Cancelled, clock.GetUtcNow().ToPostgresPrecision(), "cancelled by the manufacturer");
        }
        catch (OrderTransitionRefusedException ex)
        {
            return DeviceTypesApi.Conflict(ex.Message);
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Ok(View(order));
    }

    /// <summary>Another manufacturer's profile is "no such profile": nothing tells it exists.</summary>
    private static async Task<Guid?> OwnedProfileAsync(RedirectDbContext db, Guid manufacturerId, string? value, FieldErrors errors, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(value))
        {
            errors.Add("nmsProfileId", "Required.");
            return null;
        }

        if (!Guid.TryParse(value, out var id))
        {
            errors.Add("nmsProfileId", "Must be a UUID.");
            return null;
        }

        if (!await db.NmsProfiles.AnyAsync(p => p.Id == id && p.ManufacturerId == manufacturerId, cancellationToken))
        {
            errors.Add("nmsProfileId", $"No NMS profile {id}.");
            return null;
        }

        return id;
    }

    private static OrderView View(Order o) => new(o.Id, o.SerialNumber, o.NmsProfileId, o.DeviceTypeId, o.State, o.CreatedAt, o.UpdatedAt);
}
