using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Onboarding.Redirect.Data;
using Onboarding.Redirect.Security;
using Onboarding.ServiceDefaults.Http;
using Onboarding.ServiceDefaults.Security;
using Onboarding.ServiceDefaults.Database;

namespace Onboarding.Redirect.Api;

/// <summary>Manufacturers sign up at their redirect server and receive their own API key (not an NMS customer key).</summary>
internal static class RedirectManufacturersApi
{
    public static void MapRedirectManufacturersApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/redirect/manufacturers").WithTags("Redirect: manufacturers")
            .WithMetadata(new SecuritySchemeMetadata(ManufacturerClaims.OpenApiScheme));

        group.MapPost("/", SignUp)
            .WithName("RedirectManufacturerSignUp")
            .WithSummary("Sign up as a manufacturer at the redirect server; the response carries the API key (X-Manufacturer-Key), shown only once.")
            .AllowAnonymous()
            .RequireRateLimiting(RedirectModule.SignUpRateLimit);
        group.MapGet("/me", GetMe)
            .WithName("RedirectManufacturerMe")
            .WithSummary("The calling manufacturer.")
            .RequireAuthorization(ManufacturerClaims.Policy);
        group.MapPost("/me/api-key", RotateKey)
            .WithName("RedirectManufacturerRotateKey")
            .WithSummary("Issue a new manufacturer key; the current one stops working at once.")
            .RequireAuthorization(ManufacturerClaims.Policy);
        VoucherSigningApi.Map(group);
    }

    private static async Task<Results<Created<ManufacturerSignUpResponse>, ValidationProblem>> SignUp(
        ManufacturerSignUpRequest request, RedirectDbContext db, TimeProvider clock, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        errors.RequireText("name", request.Name, 200);
        errors.RequireEmail("contactEmail", request.ContactEmail);
        if (!errors.IsValid)
            return TypedResults.ValidationProblem(errors.Errors);

        var apiKey = ApiKey.Generate(ManufacturerClaims.KeyPrefix);
        var manufacturer = new RedirectManufacturer
        {
            Id = Guid.CreateVersion7(),
            Name = request.Name!.Trim(),
            ContactEmail = request.ContactEmail!.Trim(),
            ApiKeyId = apiKey.Id,
            ApiKeyHash = ApiKey.Hash(apiKey.Value),
            CreatedAt = clock.GetUtcNow().ToPostgresPrecision(),
        };
        db.Manufacturers.Add(manufacturer);
        await db.SaveChangesAsync(cancellationToken);
        loggers.CreateLogger(typeof(RedirectManufacturersApi)).LogInformation("Redirect manufacturer {ManufacturerId} signed up", manufacturer.Id);
        return TypedResults.Created("/api/redirect/manufacturers/me",
            new ManufacturerSignUpResponse(manufacturer.Id, manufacturer.Name, manufacturer.ContactEmail, manufacturer.CreatedAt, apiKey.Value));
    }

    private static async Task<Ok<ManufacturerProfile>> GetMe(ClaimsPrincipal user, RedirectDbContext db, CancellationToken cancellationToken)
    {
        var id = user.GetManufacturerId();
        var manufacturer = await db.Manufacturers.AsNoTracking().SingleAsync(m => m.Id == id, cancellationToken);
        return TypedResults.Ok(new ManufacturerProfile(manufacturer.Id, manufacturer.Name, manufacturer.ContactEmail, manufacturer.CreatedAt));
    }

    private static async Task<Ok<ManufacturerKeyRotated>> RotateKey(ClaimsPrincipal user, RedirectDbContext db, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var id = user.GetManufacturerId();
        var manufacturer = await db.Manufacturers.SingleAsync(m => m.Id == id, cancellationToken);
        var apiKey = ApiKey.Generate(ManufacturerClaims.KeyPrefix);
        manufacturer.ApiKeyId = apiKey.Id;
        manufacturer.ApiKeyHash = ApiKey.Hash(apiKey.Value);
        await db.SaveChangesAsync(cancellationToken);
        loggers.CreateLogger(typeof(RedirectManufacturersApi)).LogInformation("Redirect manufacturer {ManufacturerId} rotated its key", id);
        return TypedResults.Ok(new ManufacturerKeyRotated(apiKey.Value));
    }
}
