using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Onboarding.ServiceDefaults.Database;

/// <summary>Migrates before Kestrel starts accepting requests, so no request sees an old schema.</summary>
internal sealed class MigrateOnStartup(MigrationRunner runner, IOptions<DatabaseOptions> options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) =>
        options.Value.MigrateOnStartup ? runner.MigrateAsync(cancellationToken) : Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
