using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Onboarding.Inventory.Api;
using Onboarding.Inventory.Contracts;
using Onboarding.Inventory.Data;
using Onboarding.Inventory.Lifecycle;
using Onboarding.ServiceDefaults;

namespace Onboarding.Inventory;

/// <summary>The devices each customer expects, their records and certificates, and their onboarding timelines.</summary>
public static class InventoryModule
{
    public static IHostApplicationBuilder AddInventory(this IHostApplicationBuilder builder)
    {
        builder.Services.AddModuleDatabase<InventoryDbContext>("inventory");
        builder.Services.AddScoped<IDeviceBookkeeping, DeviceBookkeeping>();
        builder.Services.AddScoped<IDeviceDirectory, DeviceDirectory>();
        builder.Services.AddScoped<IDeviceLifecycle, DeviceLifecycle>();
        // Answers Accounts' question (the manufacturer view, automatic disabling); the contract is Accounts' own.
        builder.Services.AddScoped<Onboarding.Accounts.Contracts.IManufacturerDeviceCounts, ManufacturerDeviceCounts>();
        return builder;
    }

    public static IEndpointRouteBuilder MapInventory(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapDevicesApi();
        return endpoints;
    }
}
