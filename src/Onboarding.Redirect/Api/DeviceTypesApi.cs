using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Onboarding.Redirect.Data;
using Onboarding.Redirect.Security;
using Onboarding.ServiceDefaults.Http;
using Onboarding.Redirect.Serials;
using Onboarding.ServiceDefaults.Database;

namespace Onboarding.Redirect.Api;

/// <summary>Device types: the factory CA a product line's IDevIDs chain to, and where their serial is.</summary>
internal static class DeviceTypesApi
{
    private const int MaxPemLength = 64 * 1024;

    public static void MapDeviceTypesApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/redirect/device-types").WithTags("Redirect: device types")
            .RequireAuthorization(ManufacturerClaims.Policy)
            .WithMetadata(new SecuritySchemeMetadata(ManufacturerClaims.OpenApiScheme));

        group.MapPost("/", Create)
            .WithName("CreateDeviceType")
            .WithSummary("Register a device type: factory CA certificates (PEM) and the serial-extraction rule.");
        group.MapGet("/", List)
            .WithName("ListDeviceTypes")
            .WithSummary("The calling manufacturer's device types.");
        group.MapGet("/{id:guid}", Get)
            .WithName("GetDeviceType")
            .WithSummary("One device type.");
    }

    private static async Task<Results<Created<DeviceTypeView>, ValidationProblem, ProblemHttpResult>> Create(
        DeviceTypeRequest request, ClaimsPrincipal user, RedirectDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var manufacturerId = user.GetManufacturerId();
        var errors = new FieldErrors();
        errors.RequireText("name", request.Name, 200);
        var pem = ValidateCa(request.CaPem, clock.GetUtcNow(), errors);
        var rule = ValidateRule(request.Serial, errors);
        if (!errors.IsValid)
            return TypedResults.ValidationProblem(errors.Errors);

        var name = request.Name!.Trim();
        if (await db.DeviceTypes.AnyAsync(t => t.ManufacturerId == manufacturerId && t.Name == name, cancellationToken))
            return Conflict($"A device type named '{name}' exists already.");

        var type = new DeviceType
        {
            Id = Guid.CreateVersion7(),
            ManufacturerId = manufacturerId,
            Name = name,
            CaPem = pem!,
            SerialSource = rule!.Source,
            SerialPattern = rule.Pattern,
            CreatedAt = clock.GetUtcNow().ToPostgresPrecision(),
        };
        db.DeviceTypes.Add(type);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/redirect/device-types/{type.Id}", View(type));
    }

    private static async Task<Ok<List<DeviceTypeView>>> List(ClaimsPrincipal user, RedirectDbContext db, CancellationToken cancellationToken)
    {
        var manufacturerId = user.GetManufacturerId();
        var types = await db.DeviceTypes.AsNoTracking().Where(t => t.ManufacturerId == manufacturerId).OrderBy(t => t.Name).ToListAsync(cancellationToken);
        return TypedResults.Ok(types.Select(View).ToList());
    }

    private static async Task<Results<Ok<DeviceTypeView>, NotFound>> Get(Guid id, ClaimsPrincipal user, RedirectDbContext db, CancellationToken cancellationToken)
    {
        var manufacturerId = user.GetManufacturerId();
        var type = await db.DeviceTypes.AsNoTracking().SingleOrDefaultAsync(t => t.Id == id && t.ManufacturerId == manufacturerId, cancellationToken);
        return type is null ? TypedResults.NotFound() : TypedResults.Ok(View(type));
    }

    /// <summary>The CA bundle: PEM certificates only, each a CA (basicConstraints cA) and not expired.</summary>
    internal static string? ValidateCa(string? pem, DateTimeOffset now, FieldErrors errors)
    {
        const string field = "caPem";
        if (string.IsNullOrWhiteSpace(pem))
        {
            errors.Add(field, "Required: one or more PEM CA certificates.");
            return null;
        }

        if (pem.Length > MaxPemLength)
        {
            errors.Add(field, $"At most {MaxPemLength} characters.");
            return null;
        }

        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPem(pem);
        }
        catch (CryptographicException ex)
        {
            errors.Add(field, $"Not a PEM certificate bundle: {ex.Message}");
            return null;
        }

        if (certificates.Count == 0)
        {
            errors.Add(field, "No CERTIFICATE block found.");
            return null;
        }

        foreach (var certificate in certificates)
        {
            if (certificate.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is not { CertificateAuthority: true })
                errors.Add(field, $"'{certificate.Subject}' is not a CA certificate (basicConstraints cA must be true).");
            if (certificate.NotAfter.ToUniversalTime() <= now.UtcDateTime)
                errors.Add(field, $"'{certificate.Subject}' expired at {certificate.NotAfter.ToUniversalTime():O}.");
        }

        return string.Join('\n', certificates.Select(c => c.ExportCertificatePem())) + "\n";
    }

    internal static SerialRule? ValidateRule(SerialRuleRequest? request, FieldErrors errors)
    {
        if (request?.Source is null)
        {
            errors.Add("serial.source", $"Required: one of {string.Join(", ", Enum.GetNames<SerialSource>())}.");
            return null;
        }

        // Not Enum.TryParse alone: it would also accept "0" or "1, 2".
        var source = Enum.GetValues<SerialSource>().Where(s => string.Equals(s.ToString(), request.Source, StringComparison.OrdinalIgnoreCase)).ToList();
        if (source.Count == 0)
            errors.Add("serial.source", $"Unknown source '{request.Source}'; one of {string.Join(", ", Enum.GetNames<SerialSource>())}.");
        if (request.Pattern is not null && SerialExtractor.ValidatePattern(request.Pattern) is { } problem)
            errors.Add("serial.pattern", problem);
        return errors.IsValid ? new SerialRule(source[0], request.Pattern) : null;
    }

    private static DeviceTypeView View(DeviceType type)
    {
        var certificates = new X509Certificate2Collection();
        certificates.ImportFromPem(type.CaPem);
        return new DeviceTypeView(type.Id, type.Name,
            [.. certificates.Select(c => new FactoryCaCertificateView(c.Subject, c.GetCertHashString(HashAlgorithmName.SHA256), c.NotAfter.ToUniversalTime()))],
            type.SerialSource.ToString(), type.SerialPattern, type.CreatedAt);
    }

    internal static ProblemHttpResult Conflict(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Conflict", detail: detail);
}
