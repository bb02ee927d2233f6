using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Onboarding.IntegrationTests.Infrastructure;
using Onboarding.ServiceDefaults.Database;

namespace Onboarding.IntegrationTests;

/// <summary>
/// Inventory 0002 (lifecycle states, public-key hash) and telemetry 0005 (devices keyed by DeviceId) on a database
/// that the previous release left with devices, credentials and readings in it.
/// </summary>
public class DeviceIdentityMigrationTests(OnboardingFactory factory) : IClassFixture<OnboardingFactory>
{
    private static readonly Guid Customer = Guid.Parse("00000000-0000-0000-0000-00000000000a");
    private static readonly Guid Manufacturer = Guid.Parse("00000000-0000-0000-0000-0000000000ff");

    /// <summary>A database migrated as the previous release left it (inventory 0001, telemetry 0004).</summary>
    private async Task<(NpgsqlDataSource DataSource, List<ModuleMigrations> Modules)> PreviousReleaseAsync(string name)
    {
        var server = await PostgresServer.Instance;
        var dataSource = NpgsqlDataSource.Create(await server.CreateEmptyDatabaseAsync(name));
        var modules = factory.Services.GetServices<ModuleMigrations>().ToList();
        var previous = modules.Select(m => m.Module switch { "inventory" => m.Until(1), "telemetry" => m.Until(4), _ => m }).ToList();
        await new MigrationRunner(dataSource, previous, NullLogger<MigrationRunner>.Instance).MigrateAsync(CancellationToken.None);
        return (dataSource, modules);
    }

    private static async Task InsertDeviceAsync(NpgsqlDataSource dataSource, Guid id, string serial, string state, X509Certificate2 certificate)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO inventory.devices (id, customer_id, serial_number, manufacturer_id, model, certificate_der, certificate_sha256,
                                           certificate_subject, state, created_at, updated_at)
            VALUES ($1, $2, $3, $4, 'MX204', $5, $6, $7, $8, now(), now())
            """);
        foreach (var value in new object[] { id, Customer, serial, Manufacturer, certificate.RawData, Convert.ToHexStringLower(SHA256.HashData(certificate.RawData)), certificate.Subject, state })
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        await command.ExecuteNonQueryAsync();
        await using var step = dataSource.CreateCommand("INSERT INTO inventory.device_events (device_id, at, state, source, detail) VALUES ($1, now(), $2, 'sftp:m-acme', 'bookkept')");
        step.Parameters.Add(new NpgsqlParameter { Value = id });
        step.Parameters.Add(new NpgsqlParameter { Value = state });
        await step.ExecuteNonQueryAsync();
    }

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Asserts the query's rows, in order, column by column.</summary>
    private static async Task AssertRowsAsync(NpgsqlDataSource dataSource, string sql, params object[][] expected) =>
        Assert.Equal(expected, await RowsAsync(dataSource, sql));

    private static async Task<List<object[]>> RowsAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<object[]>();
        while (await reader.ReadAsync())
        {
            var row = new object[reader.FieldCount];
            reader.GetValues(row);
            rows.Add(row);
        }

        return rows;
    }

    private static string SpkiSha256(X509Certificate2 certificate) =>
        Convert.ToHexStringLower(SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo()));

    [Fact]
    public async Task Devices_credentials_and_readings_of_the_previous_release_keep_everything_and_gain_their_device_id()
    {
        var (dataSource, modules) = await PreviousReleaseAsync("identity");
        await using var _ = dataSource;
        using var ca = new FactoryCa();
        using var ecDevice = ca.IssueDevice("OLD-EC");
        // An RSA key: its SubjectPublicKeyInfo is longer than 255 bytes, so the DER walk meets long-form lengths there too.
        using var rsaKey = RSA.Create(3072);
        using var rsaDevice = new CertificateRequest("SERIALNUMBER=OLD-RSA", rsaKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var ecId = Guid.CreateVersion7();
        var rsaId = Guid.CreateVersion7();
        await InsertDeviceAsync(dataSource, ecId, "OLD-EC", "Redirected", ecDevice);
        await InsertDeviceAsync(dataSource, rsaId, "OLD-RSA", "Onboarded", rsaDevice);
        await ExecuteAsync(dataSource, """
            INSERT INTO telemetry.devices (serial_number, customer_id, device_name, created_at, desired_version)
            VALUES ('OLD-EC', '00000000-0000-0000-0000-00000000000a', 1000001, now(), 0),
                   ('OLD-RSA', '00000000-0000-0000-0000-00000000000a', 1000002, now(), 0);
            INSERT INTO telemetry.credential_issuances (serial_number, device_name, certificate_serial, certificate_sha256, created_at)
            VALUES ('OLD-EC', 1000001, '01', repeat('0', 64), now()), ('OLD-EC', 1000001, '02', repeat('0', 64), now()),
                   ('OLD-RSA', 1000002, '03', repeat('0', 64), now());
            INSERT INTO telemetry.readings (device_name, signal_date, customer_id, latitude, longitude, battery_level, metric_names, metric_values, received_at)
            SELECT 1000000 + d, timestamptz '2026-11-21T10:00:00Z' + s * interval '1 second', '00000000-0000-0000-0000-00000000000a',
                   48.1, 11.5, s, '{seq}', ARRAY[s::double precision], now()
            FROM generate_series(1, 2) d, generate_series(1, 500) s;
            """);

        // The two migrations of the device identity (inventory 0002, telemetry 0005); later ones are not this test's subject.
        var identityRelease = modules.Select(m => m.Module == "telemetry" ? m.Until(5) : m).ToList();
        Assert.Equal(2, await new MigrationRunner(dataSource, identityRelease, NullLogger<MigrationRunner>.Instance).MigrateAsync(CancellationToken.None));

        // Redirect-server states become Bookkept, on the device and on its timeline; NMS states stay.
        await AssertRowsAsync(dataSource, "SELECT id, state, public_key_sha256 FROM inventory.devices ORDER BY serial_number",
            [ecId, "Bookkept", SpkiSha256(ecDevice)], [rsaId, "Onboarded", SpkiSha256(rsaDevice)]);
        await AssertRowsAsync(dataSource, "SELECT e.state FROM inventory.device_events e JOIN inventory.devices d ON d.id = e.device_id ORDER BY d.serial_number",
            ["Bookkept"], ["Onboarded"]);
        // Telemetry devices and every issuance carry the inventory device's id.
        await AssertRowsAsync(dataSource, "SELECT serial_number, device_id, device_name FROM telemetry.devices ORDER BY serial_number",
            ["OLD-EC", ecId, 1000001L], ["OLD-RSA", rsaId, 1000002L]);
        await AssertRowsAsync(dataSource, "SELECT device_id, count(*) FROM telemetry.credential_issuances GROUP BY device_id ORDER BY min(id)",
            [ecId, 2L], [rsaId, 1L]);
        // Not a reading lost: each device still reaches all of its own through its id.
        await AssertRowsAsync(dataSource, """
            SELECT d.device_id, count(*), sum(r.metric_values[1]) FROM telemetry.devices d JOIN telemetry.readings r USING (device_name)
            GROUP BY d.device_id ORDER BY min(d.serial_number)
            """, [ecId, 500L, 125250d], [rsaId, 500L, 125250d]);
    }

    [Fact]
    public async Task A_telemetry_device_without_an_inventory_device_stops_the_migration_with_its_serial_and_changes_nothing()
    {
        var (dataSource, modules) = await PreviousReleaseAsync("orphan");
        await using var _ = dataSource;
        using var ca = new FactoryCa();
        using var certificate = ca.IssueDevice("KNOWN-1");
        await InsertDeviceAsync(dataSource, Guid.CreateVersion7(), "KNOWN-1", "Bookkept", certificate);
        await ExecuteAsync(dataSource, """
            INSERT INTO telemetry.devices (serial_number, customer_id, device_name, created_at, desired_version)
            VALUES ('KNOWN-1', '00000000-0000-0000-0000-00000000000a', 1000001, now(), 0),
                   ('ORPHAN-1', '00000000-0000-0000-0000-00000000000a', 1000002, now(), 0);
            INSERT INTO telemetry.readings (device_name, signal_date, customer_id, latitude, longitude, battery_level, metric_names, metric_values, received_at)
            VALUES (1000002, '2026-11-21T10:00:00Z', '00000000-0000-0000-0000-00000000000a', 48.1, 11.5, 80, '{}', '{}', now());
            """);

        var refused = await Assert.ThrowsAsync<PostgresException>(() =>
            new MigrationRunner(dataSource, modules, NullLogger<MigrationRunner>.Instance).MigrateAsync(CancellationToken.None));

        Assert.Contains("without an inventory device of the same customer and serial: ORPHAN-1", refused.MessageText, StringComparison.Ordinal);
        await AssertRowsAsync(dataSource, "SELECT max(version) FROM platform.schema_migrations WHERE module = 'telemetry'", [4]);
        await AssertRowsAsync(dataSource,
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'telemetry' AND table_name = 'devices' AND column_name = 'device_id'", [0L]);
        await AssertRowsAsync(dataSource, "SELECT count(*) FROM telemetry.readings", [1L]);
    }
}
