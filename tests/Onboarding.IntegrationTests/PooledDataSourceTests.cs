using Npgsql;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.ServiceDefaults.Database;

namespace Onboarding.IntegrationTests;

/// <summary>
/// The shared data source's pool settings (<see cref="PooledDataSource"/>): statements prepared on a connection stay
/// prepared when it goes back to the pool and is taken again, and settings the connection string gives are kept.
/// </summary>
public class PooledDataSourceTests
{
    [Fact]
    public async Task A_statement_run_repeatedly_is_prepared_once_and_survives_the_connection_going_back_to_the_pool()
    {
        var server = await PostgresServer.Instance;
        var connectionString = new NpgsqlConnectionStringBuilder(await server.CreateEmptyDatabaseAsync("pooled")) { MaxPoolSize = 1 }.ConnectionString;
        await using var dataSource = PooledDataSource.Build(connectionString);

        for (var i = 0; i < 10; i++)
        {
            // A new connection from the pool each time: with MaxPoolSize 1 it is the same physical connection.
            await using var connection = await dataSource.OpenConnectionAsync();
            await using var command = new NpgsqlCommand("SELECT $1::int + 1", connection) { Parameters = { new NpgsqlParameter { Value = i } } };
            Assert.Equal(i + 1, (int)(await command.ExecuteScalarAsync())!);
        }

        await using (var connection = await dataSource.OpenConnectionAsync())
        {
            await using var prepared = new NpgsqlCommand("SELECT count(*) FROM pg_prepared_statements WHERE statement = 'SELECT $1::int + 1'", connection);
            Assert.Equal(1L, (long)(await prepared.ExecuteScalarAsync())!);
        }

        var settings = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
        Assert.True(settings.NoResetOnClose);
        Assert.Equal(PooledDataSource.MaxAutoPrepare, settings.MaxAutoPrepare);
    }

    [Theory]
    [InlineData("Host=db.example;No Reset On Close=false;Max Auto Prepare=0")]
    [InlineData("Host=db.example;NoResetOnClose=false;MaxAutoPrepare=0")]
    public async Task Settings_the_connection_string_gives_are_kept(string connectionString)
    {
        await using var dataSource = PooledDataSource.Build(connectionString);

        var settings = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
        Assert.False(settings.NoResetOnClose);
        Assert.Equal(0, settings.MaxAutoPrepare);
    }
}
