using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Onboarding.Provisioning.Api;
using Onboarding.Provisioning.Apply;
using Onboarding.Provisioning.Contracts;
using Onboarding.Provisioning.Data;
using Onboarding.Provisioning.Templates;
using Onboarding.ServiceDefaults;

namespace Onboarding.Provisioning;

/// <summary>
/// Pre-configuration of a device that called home (DESIGN.md flow step 5): the customer's templates per device type,
/// and <see cref="IPreconfiguration"/>, which the call-home module calls with the live SSH session.
/// </summary>
public static class ProvisioningModule
{
    public static IHostApplicationBuilder AddProvisioning(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ProvisioningOptions>()
            .Bind(builder.Configuration.GetSection(ProvisioningOptions.SectionName))
            .Validate(o => o.ApplyTimeout > TimeSpan.Zero, "Provisioning:ApplyTimeout must be positive.")
            .ValidateOnStart();
        services.AddModuleDatabase<ProvisioningDbContext>("provisioning");
        services.AddSingleton<TemplateRenderer>();
        services.AddScoped<TemplateStore>();
        services.AddScoped<Preconfiguration>();
        services.AddScoped<IPreconfiguration>(sp => sp.GetRequiredService<Preconfiguration>());
        return builder;
    }

    public static IEndpointRouteBuilder MapProvisioning(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapTemplatesApi();
        return endpoints;
    }
}
