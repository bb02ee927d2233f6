using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Onboarding.Accounts.Contracts;
using Onboarding.Drop.Data;
using Onboarding.ServiceDefaults.Http;

namespace Onboarding.Drop.Api;

public sealed record UploadView(Guid Id, string FileName, long Size, string Sha256, DateTimeOffset ReceivedAt, UploadOutcome Outcome, string Summary, string Report);

internal static class UploadsApi
{
    public static void MapUploadsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/manufacturers/{id:guid}/uploads").WithTags("Manufacturers").RequireAuthorization();
        group.MapGet("/", List)
            .WithName("ListUploads")
            .WithSummary("Every file this manufacturer uploaded over SFTP, newest first, with its outcome and report.");
        group.MapGet("/{uploadId:guid}/content", Content)
            .WithName("GetUploadContent")
            .WithSummary("The raw bytes of one upload, exactly as received (accepted or rejected).");
    }

    private static async Task<Results<Ok<PagedList<UploadView>>, ValidationProblem, ProblemHttpResult>> List(
        Guid id, ClaimsPrincipal user, IManufacturerAccounts accounts, DropDbContext db, CancellationToken cancellationToken,
        int page = 1, int pageSize = 50)
    {
        var errors = new Dictionary<string, string[]>();
        var skip = Paging.Validate(page, pageSize, errors);
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);
        if (!await accounts.IsOwnedByAsync(id, user.GetCustomerId(), cancellationToken))
            return NotFound();

        var query = db.Uploads.AsNoTracking().Where(u => u.ManufacturerId == id);
        var total = await query.CountAsync(cancellationToken);
        var items = await query.OrderByDescending(u => u.ReceivedAt).Skip(skip).Take(pageSize)
            .Select(u => new UploadView(u.Id, u.FileName, u.Size, u.Sha256, u.ReceivedAt, u.Outcome, u.Summary, u.Report))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedList<UploadView>(items, page, pageSize, total));
    }

    private static async Task<Results<FileContentHttpResult, ProblemHttpResult>> Content(
        Guid id, Guid uploadId, ClaimsPrincipal user, IManufacturerAccounts accounts, DropDbContext db, CancellationToken cancellationToken)
    {
        if (!await accounts.IsOwnedByAsync(id, user.GetCustomerId(), cancellationToken))
            return NotFound();
        var upload = await db.Uploads.AsNoTracking().SingleOrDefaultAsync(u => u.Id == uploadId && u.ManufacturerId == id, cancellationToken);
        return upload is null ? NotFound() : TypedResults.File(upload.Content, "application/xml", upload.FileName);
    }

    private static ProblemHttpResult NotFound() =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: "You have no such manufacturer or upload.");
}
