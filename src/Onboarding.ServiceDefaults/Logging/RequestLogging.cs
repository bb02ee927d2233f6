using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Serilog;

namespace Onboarding.ServiceDefaults.Logging;

/// <summary>
/// One log event per HTTP request (Serilog.AspNetCore's request logging): method, path, route template, status,
/// elapsed time and request id. Nothing else of the request is in it: no headers (they carry <c>X-Api-Key</c> and
/// <c>X-Admin-Key</c>), no query string (a value there may be a secret), no bodies.
/// </summary>
internal static class RequestLogging
{
    public const string MessageTemplate = "HTTP {RequestMethod} {RequestPath} ({Route}) responded {StatusCode} in {Elapsed:0.0} ms";

    /// <summary>Outermost middleware, so the event sees the status the exception handler finally sent.</summary>
    public static IApplicationBuilder UseRequestLogging(this IApplicationBuilder app) =>
        app.UseSerilogRequestLogging(options =>
        {
            // The host's own logger: without it the middleware writes to the static Log.Logger, which SerilogSetup
            // leaves alone.
            options.Logger = app.ApplicationServices.GetRequiredService<ILogger>();
            options.MessageTemplate = MessageTemplate;
            options.IncludeQueryInRequestPath = false;
            // RequestId comes, as for every other event of the request, from ASP.NET Core's request scope, which
            // Serilog.Extensions.Logging pushes onto Serilog's LogContext (SerilogSetup enriches from it).
            options.EnrichDiagnosticContext = (diagnostics, context) =>
                diagnostics.Set("Route", (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "");
        });
}
