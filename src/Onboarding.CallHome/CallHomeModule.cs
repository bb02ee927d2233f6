using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Onboarding.CallHome.Api;
using Onboarding.CallHome.Listener;
using Onboarding.CallHome.Sessions;
using Onboarding.CallHome.Trust;

namespace Onboarding.CallHome;

/// <summary>
/// The NMS's call-home listener (DESIGN.md flow step 5, RFC 8071 and Juniper outbound-ssh): a device that finished
/// bootstrapping dials the NMS; the NMS runs SSH as the client over the accepted socket, authenticates the device by
/// its host key, records CalledHome and hands the live session to pre-configuration.
/// </summary>
public static class CallHomeModule
{
    public static IHostApplicationBuilder AddCallHome(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<CallHomeOptions>().Bind(builder.Configuration.GetSection(CallHomeOptions.SectionName))
            .Validate(o => o.CallHome.KeepaliveInterval > TimeSpan.Zero && o.CallHome.KeepaliveCountMax >= 1,
                "Nms:CallHome:KeepaliveInterval must be positive and Nms:CallHome:KeepaliveCountMax at least 1")
            .Validate(o => o.CallHome.MaxUnauthenticated >= 1 && o.CallHome.MaxUnauthenticatedPerAddress >= 1
                    && o.CallHome.ConnectionsPerAddressPerSecond >= 1 && o.CallHome.ConnectionBurstPerAddress >= 1,
                "Nms:CallHome:MaxUnauthenticated, MaxUnauthenticatedPerAddress, ConnectionsPerAddressPerSecond and ConnectionBurstPerAddress must be at least 1")
            .ValidateOnStart();
        services.AddScoped<CallHomeAuthentication>();
        services.AddSingleton<CallHomeRefusals>();
        services.AddSingleton<CallHomeSessions>();
        services.AddSingleton<CallHomeKeepalive>();
        services.AddSingleton<CallHomeListener>();
        services.AddHostedService(sp => sp.GetRequiredService<CallHomeListener>());
        return builder;
    }

    public static IEndpointRouteBuilder MapCallHome(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapCallHomeSessionsApi();
        endpoints.MapCallHomeRpcApi();
        return endpoints;
    }
}
