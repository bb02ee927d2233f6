using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Onboarding.Bootstrap;
using Onboarding.Redirect.Api;
using Onboarding.Redirect.Bootstrap;
using Onboarding.Redirect.Handoff;
using Onboarding.Redirect.Data;
using Onboarding.Redirect.Profiles;
using Onboarding.Redirect.Security;
using Onboarding.Redirect.Signing;
using Onboarding.ServiceDefaults;
using Onboarding.ServiceDefaults.Keys;
using Onboarding.ServiceDefaults.Outbox;
using Onboarding.ServiceDefaults.Security;

namespace Onboarding.Redirect;

/// <summary>
/// The manufacturer's redirect server (RFC 8572, DESIGN.md step 2): manufacturers with their own API keys, device types
/// (factory CA + serial rule), NMS profiles imported from hand-off bundles, and orders with their own timeline.
/// </summary>
public static class RedirectModule
{
    internal const string ThrottleKey = "redirect";
    internal const string SignUpRateLimit = "redirect-sign-up";
    internal const string DataProtectionSubdirectory = "redirect-data-protection";
    internal const string BootstrapServerName = "redirect";

    public static IHostApplicationBuilder AddRedirect(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.Configure<RedirectOptions>(builder.Configuration.GetSection(RedirectOptions.SectionName));
        services.AddModuleDatabase<RedirectDbContext>("redirect");
        services.AddKeyedSingleton(ThrottleKey, (provider, _) =>
        {
            var options = provider.GetRequiredService<IOptions<RedirectOptions>>().Value;
            return new FailedAuthenticationThrottle(options.FailedAuthenticationPermitLimit, options.FailedAuthenticationWindow);
        });

        // Its own scheme and policy: not the default scheme, so the NMS's customer endpoints never accept a manufacturer key.
        services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, ManufacturerKeyAuthenticationHandler>(ManufacturerClaims.AuthenticationScheme, null);
        services.AddAuthorizationBuilder().AddPolicy(ManufacturerClaims.Policy, policy => policy
            .AddAuthenticationSchemes(ManufacturerClaims.AuthenticationScheme)
            .RequireAuthenticatedUser()
            .RequireClaim(ManufacturerClaims.ManufacturerId));

        services.AddRateLimiter(options => options.AddPolicy(SignUpRateLimit, context =>
        {
            var redirect = context.RequestServices.GetRequiredService<IOptions<RedirectOptions>>().Value;
            return RateLimitPartition.GetFixedWindowLimiter(context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                _ => new FixedWindowRateLimiterOptions { PermitLimit = redirect.SignUpPermitLimit, Window = redirect.SignUpWindow, QueueLimit = 0 });
        }));

        // NMS passphrases and profile client keys are encrypted with Data Protection; its keys live in the key store, so
        // several hosts sharing that store (and the database) can all decrypt, and the database alone reveals nothing.
        services.AddDataProtection().SetApplicationName("onboarding-redirect");
        services.AddOptions<KeyManagementOptions>().Configure<KeyStore, ILoggerFactory, IOptions<RedirectOptions>>((options, keyStore, loggers, redirect) =>
            options.XmlRepository = new FileSystemXmlRepository(
                new DirectoryInfo(keyStore.PrivateDirectory(redirect.Value.DataProtectionDirectory, DataProtectionSubdirectory)), loggers));
        services.AddSingleton<ProfileSecrets>();
        services.AddSingleton<ManufacturerVoucherKeys>();
        services.AddScoped<ISignedRedirect, SignedRedirect>();

        // The device-facing RFC 8572 port and the hand-off to NMSs over SFTP.
        services.AddSingleton<RedirectBootstrapIdentity>();
        services.AddSingleton<FactoryTrust>();
        services.AddScoped<RedirectDecisions>();
        services.AddSingleton<NmsHandoffBatcher>();
        services.AddOutboxHandler<HandOffOrderHandler>(HandOffOrder.MessageType);
        services.AddBootstrapServer<RedirectAnswers>(BootstrapServerName, provider =>
        {
            var settings = provider.GetRequiredService<IOptions<RedirectOptions>>().Value.Bootstrap;
            var identity = provider.GetRequiredService<RedirectBootstrapIdentity>();
            return new BootstrapServerOptions
            {
                Enabled = settings.Enabled,
                Port = settings.Port,
                ListenAddress = IPAddress.Parse(settings.ListenAddress),
                ServerCertificate = () => identity.TlsCertificate,
                ServerIntermediates = identity.Intermediates,
            };
        });

        services.ConfigureSwaggerGen(swagger => swagger.AddSecurityDefinition(ManufacturerClaims.OpenApiScheme, new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = ManufacturerClaims.HeaderName,
            Description = "The manufacturer key returned once by POST /api/redirect/manufacturers.",
        }));
        return builder;
    }

    public static IEndpointRouteBuilder MapRedirect(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapRedirectManufacturersApi();
        endpoints.MapDeviceTypesApi();
        endpoints.MapNmsProfilesApi();
        endpoints.MapOrdersApi();
        endpoints.MapBootstrapApi();
        return endpoints;
    }
}
