using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Onboarding.ServiceDefaults.Security;

/// <summary>
/// Admin-only endpoints (telemetry credentials, operations) take the <c>X-Admin-Key</c> header, configured by
/// <c>Admin:ApiKey</c>. Only the SHA-256 of the configured key is kept in memory, the comparison is constant-time and
/// neither value is ever logged. A customer's API key is not enough (403).
/// </summary>
public sealed class AdminKey
{
    public const string HeaderName = "X-Admin-Key";

    private readonly byte[]? _hash;

    public AdminKey(IOptions<AdminOptions> options)
    {
        var key = options.Value.ApiKey;
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

/// <summary>The <c>Admin</c> configuration section.</summary>
public sealed class AdminOptions
{
    /// <summary>The admin API key, sent as <c>X-Admin-Key</c>. Unset means the admin endpoints refuse everyone.</summary>
    public string? ApiKey { get; set; }
}

public static class AdminKeyExtensions
{
    public static IHostApplicationBuilder AddAdminKey(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<AdminOptions>(builder.Configuration.GetSection("Admin"));
        builder.Services.AddSingleton<AdminKey>();
        return builder;
    }
}
