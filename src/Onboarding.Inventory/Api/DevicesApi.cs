using System.Security.Claims;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Onboarding.Accounts.Contracts;
using Onboarding.Inventory.Contracts;
using Onboarding.Inventory.Data;
using Onboarding.ServiceDefaults.Http;

namespace Onboarding.Inventory.Api;

internal static class DevicesApi
{
    public static void MapDevicesApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/devices").WithTags("Devices").RequireAuthorization();
        group.MapGet("/", List)
            .WithName("ListDevices")
            .WithSummary("The caller's devices, newest first; filter by state and manufacturer; paginated.");
        group.MapGet("/{serial}", Get)
            .WithName("GetDevice")
            .WithSummary("One device by serial number, with its certificate and onboarding timeline.");
        group.MapGet("/{id}/timeline", Timeline)
            .WithName("GetDeviceTimeline")
            .WithSummary("One device's onboarding timeline by device id: every step with its time, state, source and detail.");
    }

    private static async Task<Results<Ok<PagedList<DeviceSummary>>, ValidationProblem>> List(
        ClaimsPrincipal user, InventoryDbContext db, CancellationToken cancellationToken,
        string? state = null, Guid? manufacturerId = null, int page = 1, int pageSize = 50)
    {
        var errors = new Dictionary<string, string[]>();
        DeviceState? stateFilter = null;
        if (state is not null)
        {
            if (Enum.TryParse<DeviceState>(state, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed))
                stateFilter = parsed;
            else
                errors["state"] = [$"Must be one of {string.Join(", ", Enum.GetNames<DeviceState>())}."];
        }

        var skip = Paging.Validate(page, pageSize, errors);
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);

        var customerId = user.GetCustomerId();
        var query = db.Devices.AsNoTracking().Where(d => d.CustomerId == customerId);
        if (stateFilter is { } s)
            query = query.Where(d => d.State == s);
        if (manufacturerId is { } m)
            query = query.Where(d => d.ManufacturerId == m);

        var total = await query.CountAsync(cancellationToken);
        var items = await query.OrderByDescending(d => d.CreatedAt).ThenBy(d => d.SerialNumber)
            .Skip(skip).Take(pageSize)
            .Select(d => new DeviceSummary(d.Id, d.SerialNumber, d.ManufacturerId, d.Model, d.State, d.CreatedAt, d.UpdatedAt))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedList<DeviceSummary>(items, page, pageSize, total));
    }

    private static async Task<Results<Ok<DeviceDetails>, ProblemHttpResult>> Get(
        string serial, ClaimsPrincipal user, InventoryDbContext db, CancellationToken cancellationToken)
    {
        var customerId = user.GetCustomerId();
        var device = await db.Devices.AsNoTracking().Include(d => d.Events)
            .SingleOrDefaultAsync(d => d.CustomerId == customerId && d.SerialNumber == serial, cancellationToken);
        if (device is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Device not found",
                detail: "You have no device with that serial number.");
        }

        using var certificate = X509CertificateLoader.LoadCertificate(device.CertificateDer);
        return TypedResults.Ok(new DeviceDetails(
            device.Id, device.SerialNumber, device.ManufacturerId, device.Model, device.HardwareModel, device.OsVersion, device.MacAddress,
            device.OrderId, device.State, device.CertificateSubject, device.CertificateSha256, device.PublicKeySha256,
            certificate.ExportCertificatePem(), device.CreatedAt, device.UpdatedAt, Steps(device.Events)));
    }

    private static async Task<Results<Ok<DeviceTimeline>, ValidationProblem, ProblemHttpResult>> Timeline(
        string id, ClaimsPrincipal user, InventoryDbContext db, CancellationToken cancellationToken)
    {
        if (!DeviceId.TryParse(id, null, out var deviceId))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["id"] = ["A device id is a UUID, e.g. 0193a5c2-7f1e-7c3a-9d2b-5e8f0a1b2c3d."] });

        // Another customer's device answers exactly like one that does not exist: ids must not confirm what others own.
        var customerId = user.GetCustomerId();
        var device = await db.Devices.AsNoTracking().Include(d => d.Events)
            .SingleOrDefaultAsync(d => d.Id == deviceId && d.CustomerId == customerId, cancellationToken);
        if (device is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Device not found",
                detail: "You have no device with that id.");
        }

        return TypedResults.Ok(new DeviceTimeline(device.Id, device.SerialNumber, device.State, Steps(device.Events)));
    }

    /// <summary>Oldest first, in the order the steps were recorded (two steps can share a timestamp).</summary>
    private static List<TimelineEntry> Steps(IEnumerable<DeviceEvent> events) =>
        [.. events.OrderBy(e => e.Id).Select(e => new TimelineEntry(e.At, e.State, e.Source, e.Detail))];
}
