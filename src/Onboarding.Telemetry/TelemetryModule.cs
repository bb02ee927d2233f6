using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Onboarding.ServiceDefaults;
using Onboarding.ServiceDefaults.Keys;
using Onboarding.Telemetry.Api;
using Onboarding.Telemetry.Broker;
using Onboarding.Telemetry.Contracts;
using Onboarding.Telemetry.Data;
using Onboarding.Telemetry.Delivery;
using Onboarding.Telemetry.Ingestion;
using Onboarding.Telemetry.Pki;

namespace Onboarding.Telemetry;

/// <summary>Device telemetry over MQTT: the device CA and broker configuration, credentials, ingestion and queries.</summary>
public static class TelemetryModule
{
    public static IHostApplicationBuilder AddTelemetry(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TelemetryOptions>().Bind(builder.Configuration.GetSection("Telemetry"))
            .Validate(o => o.Ingestion.BatchSize >= 1 && o.Ingestion.BatchSize <= o.Ingestion.ReceiveMaximum / 2,
                "Telemetry:Ingestion:BatchSize must be at least 1 and at most half of Telemetry:Ingestion:ReceiveMaximum: acks wait for "
                + "the commit, so the broker must be allowed to send the next batch while one is being written")
            .Validate(o => o.Broker.AutosaveInterval >= TimeSpan.FromSeconds(1) && o.Broker.AutosaveInterval.Ticks % TimeSpan.TicksPerSecond == 0,
                "Telemetry:Broker:AutosaveInterval must be whole seconds, at least 1 (mosquitto's autosave_interval)")
            .ValidateOnStart();
        builder.Services.AddModuleDatabase<TelemetryDbContext>("telemetry");
        builder.Services.AddSingleton(provider => DeviceCertificateAuthority.LoadOrCreate(
            provider.GetRequiredService<KeyStore>().PrivateDirectory(
                provider.GetRequiredService<IOptions<TelemetryOptions>>().Value.CaDirectory, TelemetryOptions.KeyStoreSubdirectory)));
        builder.Services.AddSingleton<RevocationList>();
        builder.Services.AddSingleton<DeviceConfigPublisher>();
        builder.Services.AddSingleton(provider => new TelemetryBatchWriter(
            TelemetryBatchWriter.CreateDataSource(ServiceDefaultsExtensions.GetConnectionString(provider.GetRequiredService<IConfiguration>())),
            provider.GetRequiredService<TimeProvider>(), provider.GetRequiredService<ILogger<TelemetryBatchWriter>>()));
        builder.Services.AddSingleton<IngesterSubscriptions>();
        builder.Services.AddHostedService<TelemetryIngester>();
        builder.Services.AddScoped<ITelemetryCredentialDelivery, CredentialDelivery>();
        return builder;
    }

    public static IEndpointRouteBuilder MapTelemetry(this IEndpointRouteBuilder endpoints)
    {
        // Load (or generate) the device CA at start-up, so a missing or unreadable key store fails the start, not a request.
        _ = endpoints.ServiceProvider.GetRequiredService<DeviceCertificateAuthority>();
        endpoints.MapCredentialsApi();
        endpoints.MapTelemetryApi();
        endpoints.MapTelemetrySettingsApi();
        return endpoints;
    }

    /// <summary>
    /// The <c>broker-config &lt;dir&gt;</c> host command: writes a Mosquitto configuration for the configured ports and the
    /// device CA (created if missing) into the directory; returns the path of mosquitto.conf.
    /// </summary>
    public static string WriteBrokerConfiguration(IServiceProvider services, string directory)
    {
        var options = services.GetRequiredService<IOptions<TelemetryOptions>>().Value;
        var ca = services.GetRequiredService<DeviceCertificateAuthority>();
        return MosquittoConfiguration.Write(options, ca, directory);
    }
}
