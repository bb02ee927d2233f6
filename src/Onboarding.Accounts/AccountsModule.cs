using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Onboarding.Accounts.Access;
using Onboarding.Accounts.Api;
using Onboarding.Accounts.Contracts;
using Onboarding.Accounts.Data;
using Onboarding.Accounts.Identity;
using Onboarding.Accounts.Security;
using Onboarding.ServiceDefaults;
using Onboarding.ServiceDefaults.Outbox;
using Onboarding.ServiceDefaults.Security;

namespace Onboarding.Accounts;

/// <summary>Customers, their API keys, and the manufacturers (with SFTP accounts) each customer registers.</summary>
public static class AccountsModule
{
    internal const string ThrottleKey = "accounts";

    public static IHostApplicationBuilder AddAccounts(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.Configure<AccountsOptions>(builder.Configuration.GetSection("Accounts"));
        services.Configure<NmsEndpointOptions>(builder.Configuration.GetSection("Nms"));
        services.Configure<NmsIdentityOptions>(builder.Configuration.GetSection("NmsIdentity"));
        services.AddSingleton<NmsBootstrapIdentity>();
        services.AddSingleton<INmsBootstrapIdentity>(sp => sp.GetRequiredService<NmsBootstrapIdentity>());
        services.AddModuleDatabase<AccountsDbContext>("accounts");
        services.AddSingleton<FactoryCaCache>();
        services.AddScoped<IManufacturerAccounts, ManufacturerAccounts>();
        services.AddScoped<ICustomerDirectory, CustomerDirectory>();
        services.AddOutboxHandler<ManufacturerAccessReviewHandler>(ManufacturerAccessReview.MessageType);
        services.AddKeyedSingleton(ThrottleKey, (provider, _) =>
        {
            var limits = provider.GetRequiredService<IOptions<AccountsOptions>>().Value.FailedAuthentication;
            return new FailedAuthenticationThrottle(limits.PermitLimit, limits.Window);
        });

        // TimeProvider and the authorization services come from ServiceDefaults; Accounts adds only its scheme.
        services.AddAuthentication(CustomerClaims.AuthenticationScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(CustomerClaims.AuthenticationScheme, null);

        services.AddRateLimiter(options => options.AddPolicy(CustomersApi.SignUpRateLimit, context =>
        {
            var signUp = context.RequestServices.GetRequiredService<IOptions<AccountsOptions>>().Value.SignUp;
            return RateLimitPartition.GetFixedWindowLimiter(context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                _ => new FixedWindowRateLimiterOptions { PermitLimit = signUp.PermitLimit, Window = signUp.Window, QueueLimit = 0 });
        }));
        return builder;
    }

    public static IEndpointRouteBuilder MapAccounts(this IEndpointRouteBuilder endpoints)
    {
        // Load (or generate) the NMS identities now, at start-up, rather than on the first request that needs them.
        _ = endpoints.ServiceProvider.GetRequiredService<INmsBootstrapIdentity>();
        endpoints.MapCustomersApi();
        endpoints.MapManufacturersApi();
        endpoints.MapHandoffApi();
        return endpoints;
    }
}
