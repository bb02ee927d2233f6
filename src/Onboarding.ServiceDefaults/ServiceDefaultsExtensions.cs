using System.Globalization;
using System.Threading.RateLimiting;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.OpenApi;
using Npgsql;
using Onboarding.ServiceDefaults.Database;
using Onboarding.ServiceDefaults.Http;
using Onboarding.ServiceDefaults.Logging;
using Onboarding.ServiceDefaults.Outbox;
using Onboarding.ServiceDefaults.Security;

namespace Onboarding.ServiceDefaults;

/// <summary>
/// What every module relies on: logging, time, authentication and authorization, the key store, the database, migrations,
/// ProblemDetails, health, OpenAPI.
/// </summary>
public static class ServiceDefaultsExtensions
{
    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder)
    {
        builder.Logging.ClearProviders();
        SerilogSetup.AddSerilog(builder.Services, builder.Configuration);
        CrossCuttingServices.Add(builder);

        builder.Services.Configure<DatabaseOptions>(builder.Configuration.GetSection("Database"));
        builder.Services.AddSingleton(_ => PooledDataSource.Build(GetConnectionString(builder.Configuration)));
        builder.Services.AddSingleton<MigrationRunner>();
        builder.Services.AddHostedService<MigrateOnStartup>();
        builder.AddAdminKey().AddOutbox();

        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
            context.ProblemDetails.Extensions["requestId"] = context.HttpContext.TraceIdentifier);
        builder.Services.AddExceptionHandler<BadRequestExceptionHandler>();
        builder.Services.AddExceptionHandler<DatabaseUnavailableExceptionHandler>();
        builder.Services.ConfigureHttpJsonOptions(options =>
            options.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));

        builder.Services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = async (context, cancellationToken) =>
            {
                if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                    context.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await context.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context.HttpContext,
                    ProblemDetails = { Status = StatusCodes.Status429TooManyRequests, Title = "Too many requests", Detail = "Slow down and try again later." },
                });
            };
        });

        builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: ["ready"]);

        builder.Services.AddEndpointsApiExplorer();
        builder.Services.AddSwaggerGen(options =>
        {
            options.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "Onboarding NMS API",
                Version = "v1",
                Description = "Zero-touch onboarding: customers, manufacturers and their devices.",
            });
            options.AddSecurityDefinition(ApiSecurityOperationFilter.SchemeName, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = "X-Api-Key",
                Description = "The API key returned once by POST /api/customers.",
            });
            options.OperationFilter<ApiSecurityOperationFilter>();
        });
        return builder;
    }

    /// <summary>
    /// Registers a module's DbContext on the shared Npgsql data source, and the module's embedded SQL migrations
    /// (<c>Migrations/NNNN_*.sql</c> in the context's assembly); modules migrate in registration order.
    /// </summary>
    public static IServiceCollection AddModuleDatabase<TContext>(this IServiceCollection services, string module)
        where TContext : DbContext
    {
        services.AddSingleton(new ModuleMigrations(module, typeof(TContext).Assembly));
        services.AddDbContext<TContext>((provider, options) => options.UseNpgsql(provider.GetRequiredService<NpgsqlDataSource>()));
        return services;
    }

    public static WebApplication UseServiceDefaults(this WebApplication app)
    {
        app.UseRequestLogging();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRouting();
        app.UseRateLimiter();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseSwagger();
        app.UseSwaggerUI(options => options.DocumentTitle = "Onboarding NMS API");
        return app;
    }

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).ExcludeFromDescription();
        endpoints.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") })
            .ExcludeFromDescription();
        endpoints.MapOutbox();
        return endpoints;
    }

    public static string GetConnectionString(IConfiguration configuration) =>
        configuration.GetConnectionString(DatabaseOptions.ConnectionStringName)
        ?? throw new InvalidOperationException(
            $"Set ConnectionStrings:{DatabaseOptions.ConnectionStringName} (environment: ConnectionStrings__{DatabaseOptions.ConnectionStringName}).");
}
