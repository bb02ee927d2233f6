using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Onboarding.Telemetry.Pki;

/// <summary>
/// Publishes the device CA's CRL from the database, so hosts sharing the CA directory never drop each other's entries
/// and every publication carries a fresh nextUpdate (OpenSSL, hence mosquitto, refuses an expired CRL).
/// Mosquitto reads the CRL when its listener starts and on SIGHUP.
/// </summary>
internal sealed class RevocationList(NpgsqlDataSource dataSource, DeviceCertificateAuthority ca, IOptions<TelemetryOptions> options,
    ILogger<RevocationList> logger)
{
    /// <summary>Asks a local mosquitto (Broker:PidFile) to reread its TLS files, the CRL among them.</summary>
    public async Task ReloadBrokerAsync(CancellationToken cancellationToken)
    {
        var pidFile = options.Value.Broker.PidFile;
        if (string.IsNullOrEmpty(pidFile) || !File.Exists(pidFile))
            return;
        var pid = (await File.ReadAllTextAsync(pidFile, cancellationToken)).Trim();
        if (!int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            return;
        try
        {
            // The shell's built-in kill: slim images have no procps, hence no /usr/bin/kill.
            using var kill = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "kill -HUP \"$1\"", "sh", pid]) { UseShellExecute = false })!;
            await kill.WaitForExitAsync(cancellationToken);
            logger.LogInformation("Asked mosquitto (pid {Pid}) to reload its CRL", pid);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            logger.LogWarning(ex, "Could not signal mosquitto (pid {Pid}); reload it by hand", pid);
        }
    }

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
