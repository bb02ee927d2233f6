using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Onboarding.ServiceDefaults.Keys;

namespace Onboarding.ServiceDefaults;

/// <summary>
/// Services every module may depend on, whichever modules a host composes. They used to be registered by the module
/// that first needed them (Accounts), and a host without that module failed at start (UseAuthorization found no
/// authorization services).
/// </summary>
internal static class CrossCuttingServices
{
    public static void Add(IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton(TimeProvider.System);

        // The schemes (e.g. Accounts' API key) and the policies of each module are added by that module; the pipeline
        // (UseAuthentication/UseAuthorization in UseServiceDefaults) needs these services even when no module adds any.
        services.AddAuthentication();
        services.AddAuthorization();

        services.Configure<KeyStoreOptions>(builder.Configuration.GetSection(KeyStoreOptions.SectionName));
        services.AddSingleton<KeyStore>();
    }
}
