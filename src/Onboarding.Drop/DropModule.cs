using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;
using Onboarding.Drop.Api;
using Onboarding.Drop.Data;
using Onboarding.Drop.Sftp;
using Onboarding.ServiceDefaults;

namespace Onboarding.Drop;

/// <summary>The NMS SFTP drop where manufacturers upload device records, and the record of every upload.</summary>
public static class DropModule
{
    public static IHostApplicationBuilder AddDrop(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.Configure<DropOptions>(builder.Configuration.GetSection("Drop"));
        services.AddModuleMigrations("drop", typeof(DropModule).Assembly);
        services.AddDbContext<DropDbContext>((provider, options) => options.UseNpgsql(provider.GetRequiredService<NpgsqlDataSource>()));
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<SftpDropListener>();
        services.AddHostedService(provider => provider.GetRequiredService<IOptions<DropOptions>>().Value.Enabled
            ? provider.GetRequiredService<SftpDropListener>()
            : (IHostedService)new NoListener());
        return builder;
    }

    public static IEndpointRouteBuilder MapDrop(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapUploadsApi();
        return endpoints;
    }

    private sealed class NoListener : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
