using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Onboarding.Telemetry.Api;

/// <summary>
/// Admin-only endpoints take the <c>X-Admin-Key</c> header. Only the SHA-256 of the configured key is kept in memory,
/// the comparison is constant-time and neither value is ever logged. A customer's API key is not enough (403).
/// </summary>
internal sealed class AdminKey
{
    public const string HeaderName = "X-Admin-Key";

    private readonly byte[]? _hash;

    public AdminKey(IOptions<TelemetryOptions> options)
    {
        var key = options.Value.AdminApiKey;
        _hash = string.IsNullOrEmpty(key) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(key));
    }

    public bool Matches(string? presented) =>
        _hash is not null && presented is not null
        && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), _hash);

    /// <summary>An endpoint filter that lets only the admin through, answering 401 or 403 as ProblemDetails.</summary>
    public static async ValueTask<object?> RequireAdmin(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var adminKey = http.RequestServices.GetService(typeof(AdminKey)) as AdminKey;
        if (adminKey is not null && adminKey.Matches(http.Request.Headers[HeaderName].FirstOrDefault()))
            return await next(context);

        if (http.User.Identity?.IsAuthenticated == true)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Admin only",
                detail: $"This endpoint needs the NMS admin key ({HeaderName}); a customer API key is not enough.");
        }

        http.Response.Headers.WWWAuthenticate = HeaderName;
        return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Admin key required",
            detail: $"Send the NMS admin key in {HeaderName}.");
    }
}
