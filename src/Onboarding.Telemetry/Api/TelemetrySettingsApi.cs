using System.Security.Claims;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Onboarding.Accounts.Contracts;
using Onboarding.Telemetry.Data;

namespace Onboarding.Telemetry.Api;

/// <summary>A customer's telemetry settings; each customer sees and changes only its own.</summary>
internal static class TelemetrySettingsApi
{
    public static void MapTelemetrySettingsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/telemetry/settings").WithTags("Telemetry").RequireAuthorization();
        group.MapGet("/", Get)
            .WithName("GetTelemetrySettings")
            .WithSummary("The caller's telemetry settings (autoCredential: off unless turned on).");
        group.MapPut("/", Put)
            .WithName("PutTelemetrySettings")
            .WithSummary("Sets the caller's telemetry settings. autoCredential: deliver a telemetry credential to each device over its call-home session once it is Onboarded.");
    }

    private static async Task<Ok<TelemetrySettings>> Get(ClaimsPrincipal user, TelemetryDbContext db, CancellationToken cancellationToken)
    {
        var customerId = user.GetCustomerId();
        var stored = await db.CustomerSettings.AsNoTracking().SingleOrDefaultAsync(s => s.CustomerId == customerId, cancellationToken);
        return TypedResults.Ok(new TelemetrySettings(stored?.AutoCredential ?? false));
    }

    private static async Task<Results<Ok<TelemetrySettings>, ValidationProblem>> Put(
        TelemetrySettings settings, ClaimsPrincipal user, TelemetryDbContext db, TimeProvider clock, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (settings.AutoCredential is not { } autoCredential)
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["autoCredential"] = ["autoCredential (true or false) is required."] });

        var customerId = user.GetCustomerId();
        var now = clock.GetUtcNow();
        // One statement, so two concurrent first PUTs of a customer cannot collide on the primary key.
        await db.Database.ExecuteSqlInterpolatedAsync(
            $"INSERT INTO telemetry.customer_settings (customer_id, auto_credential, updated_at) VALUES ({customerId}, {autoCredential}, {now}) ON CONFLICT (customer_id) DO UPDATE SET auto_credential = excluded.auto_credential, updated_at = excluded.updated_at",
            cancellationToken);
        loggers.CreateLogger(typeof(TelemetrySettingsApi)).LogInformation("Customer {CustomerId} set telemetry autoCredential to {AutoCredential}", customerId, autoCredential);
        return TypedResults.Ok(new TelemetrySettings(autoCredential));
    }
}

/// <summary>A customer's telemetry settings.</summary>
/// <param name="AutoCredential">Deliver a telemetry credential over the call-home session once a device is Onboarded (default off).</param>
public sealed record TelemetrySettings([property: JsonPropertyName("autoCredential")] bool? AutoCredential);
