using Npgsql;

namespace Onboarding.Telemetry.Pki;

/// <summary>
/// Publishes the device CA's CRL from the database, so hosts sharing the CA directory never drop each other's entries
/// and every publication carries a fresh nextUpdate (OpenSSL, hence mosquitto, refuses an expired CRL).
/// Mosquitto reads the CRL when its listener starts and on SIGHUP.
/// </summary>
internal sealed class RevocationList(NpgsqlDataSource dataSource, DeviceCertificateAuthority ca)
{
    public async Task PublishAsync(CancellationToken cancellationToken)
    {
        var revoked = new List<(string, DateTimeOffset)>();
        await using (var command = dataSource.CreateCommand(
            "SELECT certificate_serial, revoked_at FROM telemetry.credential_issuances WHERE revoked_at IS NOT NULL ORDER BY id"))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
                revoked.Add((reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1)));
        }

        ca.PublishCrl(revoked);
    }
}
