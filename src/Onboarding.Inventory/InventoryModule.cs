using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Onboarding.Inventory.Api;
using Onboarding.Inventory.Contracts;
using Onboarding.Inventory.Data;
using Onboarding.ServiceDefaults;

namespace Onboarding.Inventory;

/// <summary>The devices each customer expects, their records and certificates, and their onboarding timelines.</summary>
public static class InventoryModule
{
    public static IHostApplicationBuilder AddInventory(this IHostApplicationBuilder builder)
    {
        builder.Services.AddModuleMigrations("inventory", typeof(InventoryModule).Assembly);
        builder.Services.AddDbContext<InventoryDbContext>((provider, options) => options.UseNpgsql(provider.GetRequiredService<NpgsqlDataSource>()));
        builder.Services.AddScoped<IDeviceBookkeeping, DeviceBookkeeping>();
        builder.Services.AddScoped<IDeviceDirectory, DeviceDirectory>();
        return builder;
    }

    public static IEndpointRouteBuilder MapInventory(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapDevicesApi();
        return endpoints;
    }
}
