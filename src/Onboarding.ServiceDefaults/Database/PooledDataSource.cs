using Npgsql;

namespace Onboarding.ServiceDefaults.Database;

/// <summary>
/// The one data source every module's DbContext shares. Two pool settings differ from Npgsql's defaults unless the
/// connection string sets them, because a device's onboarding is some 190 short statements on connections taken from
/// and returned to the pool some 60 times (pg_stat_statements, bench/README.md onboard):
/// <list type="bullet">
/// <item><c>No Reset On Close</c>: no <c>DISCARD ALL</c> each time a connection is taken again. Nothing here sets
/// session state (no <c>SET</c>, temp tables or <c>LISTEN</c>; the migration lock is released explicitly), and
/// <c>DISCARD ALL</c> would also drop the prepared statements below.</item>
/// <item><c>Max Auto Prepare</c> 100: a statement a connection has run 5 times is prepared on it, so PostgreSQL parses
/// and plans it once per connection instead of on every call.</item>
/// </list>
/// </summary>
public static class PooledDataSource
{
    public const int MaxAutoPrepare = 100;

    public static NpgsqlDataSource Build(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        // Npgsql's own builder knows every keyword, so only a plain parse tells which ones the string actually sets.
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString }.Keys.Cast<string>()
            .Select(k => k.Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant()).ToHashSet();
        if (!given.Contains("NORESETONCLOSE"))
            builder.ConnectionStringBuilder.NoResetOnClose = true;
        if (!given.Contains("MAXAUTOPREPARE"))
            builder.ConnectionStringBuilder.MaxAutoPrepare = MaxAutoPrepare;
        return builder.Build();
    }
}
