using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Onboarding.HostKeys.Api;
using Onboarding.HostKeys.Contracts;

namespace Onboarding.HostKeys;

public static class HostKeysModule
{
    public static IHostApplicationBuilder AddHostKeys(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<HostKeysOptions>(builder.Configuration.GetSection("HostKeys"));
        builder.Services.AddSingleton<NmsHostKeyStore>();
        builder.Services.AddSingleton<INmsHostKeys>(sp => sp.GetRequiredService<NmsHostKeyStore>());
        return builder;
    }

    public static IEndpointRouteBuilder MapHostKeys(this IEndpointRouteBuilder endpoints)
    {
        // Load (or generate) the keys now, at start-up, rather than on the first request that needs them.
        _ = endpoints.ServiceProvider.GetRequiredService<INmsHostKeys>();
        endpoints.MapHostKeysApi();
        return endpoints;
    }
}
