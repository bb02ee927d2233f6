using Onboarding.ServiceDefaults.Database;

namespace Onboarding.Host;

/// <summary>
/// <c>Onboarding.Host</c> runs the service; <c>Onboarding.Host migrate</c> applies pending migrations and exits,
/// for deployments that migrate as a separate step (set Database:MigrateOnStartup=false on the hosts).
/// </summary>
internal static class HostCommands
{
    public static async Task<int> RunAsync(WebApplication app, string[] args)
    {
        if (args.Length > 0 && args[0] == "migrate")
        {
            var applied = await app.Services.GetRequiredService<MigrationRunner>().MigrateAsync(CancellationToken.None);
            app.Logger.LogInformation("Database is up to date ({Applied} migrations applied)", applied);
            return 0;
        }

        await app.RunAsync();
        return 0;
    }
}
