using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Onboarding.Redirect.Data;
using Onboarding.ServiceDefaults.Security;

namespace Onboarding.Redirect.Security;

/// <summary>Who is calling the redirect server's manufacturer API.</summary>
internal static class ManufacturerClaims
{
    /// <summary>Its own scheme and header: a customer's NMS key (<c>X-Api-Key</c>, <c>onb_</c>) is never a manufacturer's key.</summary>
    public const string AuthenticationScheme = "RedirectManufacturerKey";
    public const string Policy = "RedirectManufacturer";
    public const string ManufacturerId = "onboarding:redirect_manufacturer_id";
    public const string HeaderName = "X-Manufacturer-Key";
    public const string KeyPrefix = "rdr_";

    /// <summary>The OpenAPI security scheme Swagger UI's Authorize dialog offers for this header.</summary>
    public const string OpenApiScheme = "ManufacturerKey";

    public static Guid GetManufacturerId(this ClaimsPrincipal user) =>
        Guid.Parse(user.FindFirstValue(ManufacturerId) ?? throw new InvalidOperationException("The caller is not an authenticated manufacturer."));
}

/// <summary>Authenticates a manufacturer by the <c>X-Manufacturer-Key</c> header (<see cref="ApiKeyHandler"/>).</summary>
internal sealed class ManufacturerKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    RedirectDbContext db,
    [FromKeyedServices(RedirectModule.ThrottleKey)] FailedAuthenticationThrottle throttle,
    IProblemDetailsService problemDetails)
    : ApiKeyHandler(options, loggerFactory, encoder, throttle, problemDetails)
{
    protected override string HeaderName => ManufacturerClaims.HeaderName;

    protected override string KeyPrefix => ManufacturerClaims.KeyPrefix;

    protected override string KeyName => "manufacturer key";

    protected override string Advice =>
        $"Send a valid manufacturer key (from POST /api/redirect/manufacturers) in the {ManufacturerClaims.HeaderName} header.";

    protected override async Task<(Claim Tenant, byte[] KeyHash)?> FindAsync(string keyId, CancellationToken cancellationToken)
    {
        var manufacturer = await db.Manufacturers.AsNoTracking().Where(m => m.ApiKeyId == keyId)
            .Select(m => new { m.Id, m.ApiKeyHash }).SingleOrDefaultAsync(cancellationToken);
        return manufacturer is null ? null : (new Claim(ManufacturerClaims.ManufacturerId, manufacturer.Id.ToString()), manufacturer.ApiKeyHash);
    }
}
