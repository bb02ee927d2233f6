using System.Globalization;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
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

/// <summary>Authenticates a manufacturer by the <c>X-Manufacturer-Key</c> header; answers 401 or 429 as ProblemDetails.</summary>
internal sealed class ManufacturerKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    RedirectDbContext db,
    [FromKeyedServices(RedirectModule.ThrottleKey)] FailedAuthenticationThrottle throttle,
    IProblemDetailsService problemDetails)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    private bool _throttled;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(ManufacturerClaims.HeaderName, out var values) || values.Count == 0 || string.IsNullOrEmpty(values[0]))
            return AuthenticateResult.NoResult();

        var address = Context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (throttle.IsBlocked(address))
        {
            _throttled = true;
            Logger.LogWarning("Manufacturer key authentication from {ClientAddress} refused: too many failures", address);
            return AuthenticateResult.Fail("Too many failed authentications.");
        }

        var presented = values[0]!;
        RedirectManufacturer? manufacturer = null;
        if (ApiKey.TryParseId(ManufacturerClaims.KeyPrefix, presented, out var keyId))
            manufacturer = await db.Manufacturers.AsNoTracking().SingleOrDefaultAsync(m => m.ApiKeyId == keyId, Context.RequestAborted);

        // Hash even when the id is unknown, so the answer takes the same time either way.
        var matches = ApiKey.Matches(presented, manufacturer?.ApiKeyHash ?? new byte[32]);
        if (manufacturer is null || !matches)
        {
            throttle.RecordFailure(address);
            Logger.LogWarning("Manufacturer key authentication from {ClientAddress} failed", address);
            return AuthenticateResult.Fail("Invalid manufacturer key.");
        }

        var identity = new ClaimsIdentity([new Claim(ManufacturerClaims.ManufacturerId, manufacturer.Id.ToString())], Scheme.Name);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var problem = _throttled
            ? new ProblemDetails
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Too many failed authentications",
                Detail = "This address has sent too many invalid manufacturer keys. Try again later.",
            }
            : new ProblemDetails
            {
                Status = StatusCodes.Status401Unauthorized,
                Title = "Unauthorized",
                Detail = $"Send a valid manufacturer key (from POST /api/redirect/manufacturers) in the {ManufacturerClaims.HeaderName} header.",
            };
        Response.StatusCode = problem.Status!.Value;
        if (_throttled)
            Response.Headers.RetryAfter = ((int)throttle.RetryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        else
            Response.Headers.WWWAuthenticate = $"ApiKey header=\"{ManufacturerClaims.HeaderName}\"";
        await problemDetails.WriteAsync(new ProblemDetailsContext { HttpContext = Context, ProblemDetails = problem });
    }
}
