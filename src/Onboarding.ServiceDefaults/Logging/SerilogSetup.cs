using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Serilog;
using Serilog.Formatting.Json;

namespace Onboarding.ServiceDefaults.Logging;

internal static class SerilogSetup
{
    private const string PlainTemplate =
        "[{Timestamp:HH:mm:ss.fff} {Level:u3}] {SourceContext}{Tags:l}: {Message:lj}{NewLine}{Exception}";

    /// <summary>
    /// Serilog (Serilog.AspNetCore) as the host's only logger, configured from <c>Serilog:*</c> and
    /// <c>Logging:Console:Format</c> (plain|json). <c>ReadFrom.Services</c> adds every <see cref="Serilog.Core.ILogEventSink"/>
    /// registered in DI (tests capture events this way). The static <see cref="Log.Logger"/> is left alone
    /// (<c>preserveStaticLogger</c>): several hosts share one test process, and a process-wide logger would send one
    /// host's events to another's sinks. ASP.NET Core's request scope (RequestId, RequestPath) becomes properties of
    /// each event logged through Microsoft.Extensions.Logging within the request.
    /// </summary>
    public static void AddSerilog(IServiceCollection services, IConfiguration configuration) =>
        services.AddSerilog((provider, config) =>
        {
            config.ReadFrom.Configuration(configuration)
                .ReadFrom.Services(provider)
                .Enrich.FromLogContext()
                .Enrich.With<CorrelationTags>();

            var format = configuration["Logging:Console:Format"] ?? "plain";
            if (string.Equals(format, "json", StringComparison.OrdinalIgnoreCase))
                config.WriteTo.Console(new JsonFormatter(renderMessage: true));
            else if (string.Equals(format, "plain", StringComparison.OrdinalIgnoreCase))
                config.WriteTo.Console(outputTemplate: PlainTemplate, formatProvider: CultureInfo.InvariantCulture);
            else
                throw new InvalidOperationException($"Logging:Console:Format is '{format}'; it must be 'plain' or 'json'.");
        }, preserveStaticLogger: true);
}
