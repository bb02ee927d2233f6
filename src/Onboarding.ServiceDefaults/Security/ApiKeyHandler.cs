using System.Globalization;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Onboarding.ServiceDefaults.Security;

/// <summary>
/// Authenticates a tenant by an <see cref="ApiKey"/> in one header, answering 401 or 429 as ProblemDetails. Each tenant
/// kind (NMS customer, redirect-server manufacturer) is a thin subclass with its own header, key prefix and table, so
/// one kind's key never opens the other's API, and the timing, throttling and answers are the same code for both.
/// </summary>
public abstract class ApiKeyHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    FailedAuthenticationThrottle throttle,
    IProblemDetailsService problemDetails)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    private static readonly byte[] NoHash = new byte[32];

    private bool _throttled;

    /// <summary>The request header that carries the key.</summary>
    protected abstract string HeaderName { get; }

    /// <summary>The prefix every key of this kind starts with (<see cref="ApiKey.Generate"/>).</summary>
    protected abstract string KeyPrefix { get; }

    /// <summary>What the key is called in log lines and answers, e.g. "API key".</summary>
    protected abstract string KeyName { get; }

    /// <summary>The 401 answer's advice, e.g. where such a key comes from.</summary>
    protected abstract string Advice { get; }

    /// <summary>The tenant whose key has this id: the claim that names it and the stored hash, or null.</summary>
    protected abstract Task<(Claim Tenant, byte[] KeyHash)?> FindAsync(string keyId, CancellationToken cancellationToken);

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(HeaderName, out var values) || values.Count == 0 || string.IsNullOrEmpty(values[0]))
            return AuthenticateResult.NoResult();

        var address = Context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (throttle.IsBlocked(address))
        {
            _throttled = true;
            Logger.LogWarning("{KeyName} authentication from {ClientAddress} refused: too many failures", KeyName, address);
            return AuthenticateResult.Fail("Too many failed authentications.");
        }

        var presented = values[0]!;
        var tenant = ApiKey.TryParseId(KeyPrefix, presented, out var keyId) ? await FindAsync(keyId, Context.RequestAborted) : null;

        // Hash even when the id is unknown, so the answer takes the same time either way.
        var matches = ApiKey.Matches(presented, tenant?.KeyHash ?? NoHash);
        if (tenant is null || !matches)
        {
            throttle.RecordFailure(address);
            Logger.LogWarning("{KeyName} authentication from {ClientAddress} failed", KeyName, address);
            return AuthenticateResult.Fail($"Invalid {KeyName}.");
        }

        var identity = new ClaimsIdentity([tenant.Value.Tenant], Scheme.Name);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var problem = _throttled
            ? new ProblemDetails
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Too many failed authentications",
                Detail = $"This address has sent too many invalid {KeyName}s. Try again later.",
            }
            : new ProblemDetails { Status = StatusCodes.Status401Unauthorized, Title = "Unauthorized", Detail = Advice };
        Response.StatusCode = problem.Status!.Value;
        if (_throttled)
            Response.Headers.RetryAfter = ((int)throttle.RetryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        else
            Response.Headers.WWWAuthenticate = $"ApiKey header=\"{HeaderName}\"";
        await problemDetails.WriteAsync(new ProblemDetailsContext { HttpContext = Context, ProblemDetails = problem });
    }
}
