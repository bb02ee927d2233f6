using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Onboarding.Accounts.Contracts;
using Onboarding.Bootstrap;
using Onboarding.NmsBootstrap.Answers;
using Onboarding.NmsBootstrap.Api;
using Onboarding.NmsBootstrap.Contracts;
using Onboarding.NmsBootstrap.Data;
using Onboarding.NmsBootstrap.Identity;
using Onboarding.ServiceDefaults;

namespace Onboarding.NmsBootstrap;

/// <summary>
/// The NMS's own RFC 8572 bootstrap server (DESIGN.md flow step 4): authenticates a device's IDevID against the
/// bookkept device and its manufacturer's CA, answers onboarding-information that makes the device call home, records
/// progress reports on the device's timeline and pins the SSH host keys of bootstrap-complete for call home.
/// </summary>
public static class NmsBootstrapModule
{
    /// <summary>The name of the device-facing server (<c>GetRequiredKeyedService&lt;BootstrapServerEndpoint&gt;("nms")</c>).</summary>
    public const string ServerName = "nms";

    public static IHostApplicationBuilder AddNmsBootstrap(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.Configure<NmsBootstrapOptions>(builder.Configuration.GetSection(NmsBootstrapOptions.SectionName));
        services.AddModuleDatabase<NmsBootstrapDbContext>("nms_bootstrap");
        services.AddSingleton<NmsCallHomeIdentity>();
        services.AddSingleton<INmsCallHomeIdentity>(sp => sp.GetRequiredService<NmsCallHomeIdentity>());
        services.AddScoped<PinnedHostKeys>();
        services.AddScoped<IPinnedHostKeys>(sp => sp.GetRequiredService<PinnedHostKeys>());
        services.AddScoped<DeviceAuthentication>();
        services.AddScoped<IDeviceTrust, DeviceTrust>();
        services.AddScoped<CallHomePlan>();
        services.AddBootstrapServer<NmsAnswers>(ServerName, provider =>
        {
            var options = provider.GetRequiredService<IOptions<NmsBootstrapOptions>>().Value;
            var identity = provider.GetRequiredService<INmsBootstrapIdentity>();
            return new BootstrapServerOptions
            {
                Enabled = options.Bootstrap.Enabled,
                ListenAddress = options.Bootstrap.ParsedListenAddress(),
                Port = options.Bootstrap.ListenPort ?? options.BootstrapPort,
                ServerCertificate = () => identity.BootstrapTlsCertificate,
            };
        });
        return builder;
    }

    public static IEndpointRouteBuilder MapNmsBootstrap(this IEndpointRouteBuilder endpoints)
    {
        // Load (or generate) the call-home client key now, at start-up, rather than on the first device.
        _ = endpoints.ServiceProvider.GetRequiredService<INmsCallHomeIdentity>();
        endpoints.MapDeviceBootstrapApi();
        return endpoints;
    }
}
