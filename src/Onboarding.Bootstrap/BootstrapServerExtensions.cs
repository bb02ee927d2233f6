using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Onboarding.Bootstrap;

public static class BootstrapServerExtensions
{
    /// <summary>
    /// Adds a device-facing bootstrap server named <paramref name="name"/> (e.g. "redirect", "nms") answered by
    /// <typeparamref name="TAnswers"/> (scoped, one per request). Find it with
    /// <c>GetRequiredKeyedService&lt;BootstrapServerEndpoint&gt;(name)</c>, e.g. for its bound port.
    /// </summary>
    public static IServiceCollection AddBootstrapServer<TAnswers>(this IServiceCollection services, string name,
        Func<IServiceProvider, BootstrapServerOptions> options)
        where TAnswers : class, IBootstrapAnswers
    {
        services.TryAddScoped<TAnswers>();
        services.AddKeyedSingleton(name, (provider, _) => new BootstrapServerEndpoint(name, options(provider), typeof(TAnswers),
            provider.GetRequiredService<IServiceScopeFactory>(), provider.GetRequiredService<ILoggerFactory>()));
        // Not AddHostedService: it de-duplicates by implementation type, and a host may run two of these.
        services.AddSingleton<IHostedService>(provider => provider.GetRequiredKeyedService<BootstrapServerEndpoint>(name));
        return services;
    }
}
