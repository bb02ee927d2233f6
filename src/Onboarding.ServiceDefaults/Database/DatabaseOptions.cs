namespace Onboarding.ServiceDefaults.Database;

/// <summary>Where the one PostgreSQL database lives and whether the host migrates it at start-up.</summary>
public sealed class DatabaseOptions
{
    public const string ConnectionStringName = "Onboarding";

    public bool MigrateOnStartup { get; set; } = true;
}
