using System.Globalization;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Onboarding.Accounts.Contracts;
using Onboarding.Accounts.Data;
using Onboarding.ServiceDefaults.Security;
using Microsoft.Extensions.DependencyInjection;

namespace Onboarding.Accounts.Security;

/// <summary>Authenticates a customer by the <c>X-Api-Key</c> header; answers 401 or 429 as ProblemDetails.</summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    AccountsDbContext db,
    [FromKeyedServices(AccountsModule.ThrottleKey)] FailedAuthenticationThrottle throttle,
    IProblemDetailsService problemDetails)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string HeaderName = "X-Api-Key";

    /// <summary>A customer's NMS key; a redirect server's manufacturer key has another prefix and never matches.</summary>
    public const string KeyPrefix = "onb_";

    private bool _throttled;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(HeaderName, out var values) || values.Count == 0 || string.IsNullOrEmpty(values[0]))
            return AuthenticateResult.NoResult();

        var address = ClientAddress();
        if (throttle.IsBlocked(address))
        {
            _throttled = true;
            Logger.LogWarning("API key authentication from {ClientAddress} refused: too many failures", address);
            return AuthenticateResult.Fail("Too many failed authentications.");
        }

        var presented = values[0]!;
        Customer? customer = null;
        if (ApiKey.TryParseId(KeyPrefix, presented, out var keyId))
            customer = await db.Customers.AsNoTracking().SingleOrDefaultAsync(c => c.ApiKeyId == keyId, Context.RequestAborted);

        // Hash even when the id is unknown, so the answer takes the same time either way.
        var matches = ApiKey.Matches(presented, customer?.ApiKeyHash ?? new byte[32]);
        if (customer is null || !matches)
        {
            throttle.RecordFailure(address);
            Logger.LogWarning("API key authentication from {ClientAddress} failed", address);
            return AuthenticateResult.Fail("Invalid API key.");
        }

        var identity = new ClaimsIdentity([new Claim(CustomerClaims.CustomerId, customer.Id.ToString())], Scheme.Name);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var problem = _throttled
            ? new ProblemDetails
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Too many failed authentications",
                Detail = "This address has sent too many invalid API keys. Try again later.",
            }
            : new ProblemDetails
            {
                Status = StatusCodes.Status401Unauthorized,
                Title = "Unauthorized",
                Detail = $"Send a valid API key in the {HeaderName} header.",
            };
        Response.StatusCode = problem.Status!.Value;
        if (_throttled)
            Response.Headers.RetryAfter = ((int)throttle.RetryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        else
            Response.Headers.WWWAuthenticate = $"ApiKey header=\"{HeaderName}\"";
        await problemDetails.WriteAsync(new ProblemDetailsContext { HttpContext = Context, ProblemDetails = problem });
    }

    private string ClientAddress() => Context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
}
