using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Onboarding.CallHome.Api;
using Onboarding.CallHome.Data;
using Onboarding.CallHome.Listener;
using Onboarding.CallHome.Sessions;
using Onboarding.CallHome.Trust;
using Onboarding.ServiceDefaults;

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
            .Validate(o => o.CallHome.HeartbeatInterval > TimeSpan.Zero && o.CallHome.HostStaleAfter > o.CallHome.HeartbeatInterval,
                "Nms:CallHome:HeartbeatInterval must be positive and Nms:CallHome:HostStaleAfter longer than it (e.g. 3 intervals)")
            .Validate(o => o.CallHome.InternalApiUrl is null
                    || (Uri.TryCreate(o.CallHome.InternalApiUrl, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)),
                "Nms:CallHome:InternalApiUrl must be an absolute http or https URL")
            .Validate(o => o.CallHome.MaxConcurrentPreconfigurations >= 1, "Nms:CallHome:MaxConcurrentPreconfigurations must be at least 1")
            .ValidateOnStart();
        services.AddModuleDatabase<CallHomeDbContext>("call_home");
        services.AddSingleton<CallHomeRegistry>();
        services.AddHttpClient(CallHomeForwarding.ClientName, (provider, client) =>
                client.Timeout = provider.GetRequiredService<IOptions<CallHomeOptions>>().Value.CallHome.RpcTimeout + CallHomeForwarding.Margin)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, UseProxy = false });
        services.AddSingleton<CallHomeForwarding>();
        services.AddScoped<CallHomeAuthentication>();
        services.AddSingleton<CallHomeRefusals>();
        services.AddSingleton<CallHomeSessions>();
        services.AddSingleton<CallHomeKeepalive>();
        services.AddSingleton<CallHomeWorkLimit>();
        services.AddSingleton<CallHomeHeartbeat>();
        services.AddHostedService(sp => sp.GetRequiredService<CallHomeHeartbeat>());
        services.AddSingleton<CallHomeListener>();
        services.AddHostedService(sp => sp.GetRequiredService<CallHomeListener>());
        return builder;
    }

    public static IEndpointRouteBuilder MapCallHome(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapCallHomeSessionsApi();
        endpoints.MapCallHomeRpcApi();
        endpoints.MapCallHomeExecApi();
        return endpoints;
    }
}
