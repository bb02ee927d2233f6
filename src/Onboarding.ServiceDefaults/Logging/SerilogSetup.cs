using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Core;
using Serilog.Extensions.Logging;
using Serilog.Formatting.Json;

namespace Onboarding.ServiceDefaults.Logging;

internal static class SerilogSetup
{
    private const string PlainTemplate =
        "[{Timestamp:HH:mm:ss.fff} {Level:u3}] {SourceContext}{Tags:l}: {Message:lj}{NewLine}{Exception}";

    /// <summary>
    /// Serilog behind Microsoft.Extensions.Logging. The logger is built from the service provider so that
    /// extra <see cref="ILogEventSink"/>s registered in DI (tests capture events this way) receive every event.
    /// ASP.NET Core's request scope (RequestId, RequestPath) becomes properties of each event in the request.
    /// </summary>
    public static void AddSerilog(IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<ILoggerProvider>(provider =>
        {
            var config = new LoggerConfiguration()
                .ReadFrom.Configuration(configuration)
                .Enrich.FromLogContext()
                .Enrich.With<CorrelationTags>();

            var format = configuration["Logging:Console:Format"];
            if (string.Equals(format, "json", StringComparison.OrdinalIgnoreCase))
                config.WriteTo.Console(new JsonFormatter(renderMessage: true));
            else
                config.WriteTo.Console(outputTemplate: PlainTemplate, formatProvider: System.Globalization.CultureInfo.InvariantCulture);

            foreach (var sink in provider.GetServices<ILogEventSink>())
                config.WriteTo.Sink(sink);

            return new SerilogLoggerProvider(config.CreateLogger(), dispose: true);
        });
    }
}
