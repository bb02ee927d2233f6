using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Onboarding.Inventory.Contracts;
using Onboarding.ServiceDefaults.Security;
using Onboarding.Telemetry.Broker;
using Onboarding.Telemetry.Data;
using Onboarding.Telemetry.Pki;

namespace Onboarding.Telemetry.Api;

/// <summary>Admin-only: issuing and revoking devices' broker credentials, and the issuance history.</summary>
internal static class CredentialsApi
{
    public static void MapCredentialsApi(this IEndpointRouteBuilder endpoints)
    {
        var devices = endpoints.MapGroup("/api/devices").WithTags("Telemetry credentials").AllowAnonymous()
            .AddEndpointFilter(AdminKey.RequireAdmin);
        devices.MapPost("/{serial}/telemetry-credential", Issue)
            .WithName("IssueTelemetryCredential")
            .WithSummary("Admin: issues a broker client certificate (CN = serial) for a bookkept device, with its NMS device name.");
        devices.MapPost("/{serial}/telemetry-credential/revoke", Revoke)
            .WithName("RevokeTelemetryCredential")
            .WithSummary("Admin: revokes every certificate issued to the device and republishes the broker's CRL.");

        devices.MapPut("/{serial}/telemetry-function", ChangeFunction)
            .WithName("ChangeDeviceFunction")
            .WithSummary("Admin: sets the device's function and publishes it, versioned and retained, on devices/<serial>/config.");

        endpoints.MapGroup("/api/telemetry/customers").WithTags("Telemetry credentials").AllowAnonymous()
            .AddEndpointFilter(AdminKey.RequireAdmin)
            .MapPut("/{customerId:guid}/device-function", ChangeGroupFunction)
            .WithName("ChangeCustomerDeviceFunction")
            .WithSummary("Admin: sets the function of every telemetry device of one customer, publishing each its next config version.");

        endpoints.MapGroup("/api/telemetry/credentials").WithTags("Telemetry credentials").AllowAnonymous()
            .AddEndpointFilter(AdminKey.RequireAdmin)
            .MapGet("/history.csv", History)
            .WithName("TelemetryCredentialHistory")
            .WithSummary("Admin: every credential issuance as CSV (device_id, device_name, credential_creation_date).");
    }

    private static async Task<Results<Ok<TelemetryCredential>, ProblemHttpResult>> Issue(
        string serial, IDeviceDirectory directory, TelemetryDbContext db, DeviceCertificateAuthority ca, IOptions<TelemetryOptions> options,
        TimeProvider clock, ILoggerFactory loggers, CancellationToken cancellationToken, string? deviceFunction = null)
    {
        var matches = await directory.FindBySerialAsync(serial, cancellationToken);
        if (matches.Count == 0)
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Device not found", detail: "No customer has bookkept a device with that serial number.");
        if (matches.Count > 1)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Serial number is ambiguous",
                detail: "Several customers bookkept this serial number; the broker identifies devices by serial alone.");
        }

        if (serial.AsSpan().IndexOfAny('/', '+', '#') >= 0)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "Serial number unusable as an MQTT identity",
                detail: "A serial number containing '/', '+' or '#' cannot be a broker user name in devices/<serial>/ topics.");
        }

        if (deviceFunction is { Length: 0 or > 100 })
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid device function", detail: "deviceFunction must be 1 to 100 characters.");

        try
        {
            return await IssueOnceAsync(matches[0], deviceFunction, db, ca, options.Value, clock, loggers, cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            // A concurrent first issuance for the same device created the device row; the second pass finds it.
            db.ChangeTracker.Clear();
            return await IssueOnceAsync(matches[0], deviceFunction, db, ca, options.Value, clock, loggers, cancellationToken);
        }
    }

    private static async Task<Results<Ok<TelemetryCredential>, ProblemHttpResult>> IssueOnceAsync(
        DeviceIdentity identity, string? deviceFunction, TelemetryDbContext db, DeviceCertificateAuthority ca, TelemetryOptions settings,
        TimeProvider clock, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var serial = identity.SerialNumber;
        var device = await TelemetryDeviceRows.GetOrAddAsync(db, identity, now, cancellationToken);
        if (deviceFunction is not null)
            device.DeviceFunction = deviceFunction;

        using var certificate = ca.IssueDeviceCertificate(serial, settings.CertificateLifetime);
        db.CredentialIssuances.Add(new CredentialIssuance
        {
            DeviceId = device.DeviceId,
            SerialNumber = serial,
            DeviceName = device.DeviceName,
            CertificateSerial = certificate.SerialNumber,
            CertificateSha256 = Convert.ToHexStringLower(SHA256.HashData(certificate.RawData)),
            CreatedAt = now,
        });
        await db.SaveChangesAsync(cancellationToken);
        loggers.CreateLogger(typeof(CredentialsApi)).LogInformation(
            "Issued telemetry certificate {CertificateSerial} to device {Serial} ({DeviceName})", certificate.SerialNumber, serial, device.DeviceName);

        return TypedResults.Ok(new TelemetryCredential(
            serial, device.DeviceName, now, device.DeviceFunction ?? settings.DefaultDeviceFunction,
            new BrokerEndpoint(settings.Broker.PublicHost, settings.Broker.DevicePort, true),
            $"devices/{serial}/telemetry",
            certificate.ExportCertificatePem(), DeviceCertificateAuthority.PrivateKeyPem(certificate), ca.CertificatePem));
    }

    private static async Task<Results<Ok<CredentialRevocation>, ProblemHttpResult>> Revoke(
        string serial, TelemetryDbContext db, RevocationList revocationList, DeviceConfigPublisher broker, TimeProvider clock,
        ILogger<RevocationList> logger, CancellationToken cancellationToken)
    {
        var device = await db.Devices.SingleOrDefaultAsync(d => d.SerialNumber == serial, cancellationToken);
        if (device is null)
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No credentials", detail: "No telemetry credentials were issued for that serial number.");

        var now = clock.GetUtcNow();
        var active = await db.CredentialIssuances.Where(i => i.DeviceId == device.DeviceId && i.RevokedAt == null).ToListAsync(cancellationToken);
        foreach (var issuance in active)
            issuance.RevokedAt = now;
        device.RevokedAt = now;
        await db.SaveChangesAsync(cancellationToken);

        await revocationList.PublishAsync(cancellationToken);
        await revocationList.ReloadBrokerAsync(cancellationToken);
        try
        {
            await broker.DisconnectDeviceAsync(serial, cancellationToken);
        }
        catch (Exception ex) when (DeviceConfigPublisher.IsBrokerFailure(ex))
        {
            // The CRL is in place: a still-connected device is cut off by the next broker restart, and cannot reconnect.
            logger.LogWarning(ex, "Could not end the broker connection of revoked device {Serial}", serial);
        }
        return TypedResults.Ok(new CredentialRevocation(serial, active.Count, now));
    }

    private static async Task<Results<Ok<DeviceTwin>, ProblemHttpResult>> ChangeFunction(
        string serial, DeviceFunctionChange change, TelemetryDbContext db, DeviceConfigPublisher publisher, CancellationToken cancellationToken)
    {
        if (InvalidFunction(change) is { } invalid)
            return invalid;
        var changed = await ChangeAndPublishAsync(db, publisher, change.DeviceFunction,
            $"UPDATE telemetry.devices SET device_function = {change.DeviceFunction}, desired_version = desired_version + 1 WHERE serial_number = {serial} RETURNING *",
            cancellationToken);
        return changed switch
        {
            ([], _) => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No credentials", detail: "No telemetry credentials were issued for that serial number."),
            (_, false) => BrokerUnavailable(),
            ([var device], true) => TypedResults.Ok(Twin(device)),
            _ => throw new InvalidOperationException($"The serial number {serial} matched {changed.Devices.Count} devices"),
        };
    }

    private static async Task<Results<Ok<List<DeviceTwin>>, ProblemHttpResult>> ChangeGroupFunction(
        Guid customerId, DeviceFunctionChange change, TelemetryDbContext db, DeviceConfigPublisher publisher, CancellationToken cancellationToken)
    {
        if (InvalidFunction(change) is { } invalid)
            return invalid;
        var changed = await ChangeAndPublishAsync(db, publisher, change.DeviceFunction,
            $"UPDATE telemetry.devices SET device_function = {change.DeviceFunction}, desired_version = desired_version + 1 WHERE customer_id = {customerId} RETURNING *",
            cancellationToken);
        return changed switch
        {
            ([], _) => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No telemetry devices", detail: "That customer has no devices with telemetry credentials."),
            (_, false) => BrokerUnavailable(),
            _ => TypedResults.Ok(changed.Devices.OrderBy(d => d.SerialNumber, StringComparer.Ordinal).Select(Twin).ToList()),
        };
    }

    /// <summary>
    /// Gives the devices the next desired version and publishes it, retained, before the change commits. The row locks the
    /// UPDATE takes are held across the publish, so concurrent changes to one device get distinct versions and publish in
    /// version order (on every host): the retained configuration is the one stored. A version is never reused: if the
    /// broker cannot take it, it is stored anyway and the caller is told to repeat the request, which publishes the next.
    /// </summary>
    private static async Task<(List<TelemetryDevice> Devices, bool Published)> ChangeAndPublishAsync(TelemetryDbContext db, DeviceConfigPublisher publisher,
        string deviceFunction, FormattableString update, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var devices = await db.Devices.FromSqlInterpolated(update).AsNoTracking().ToListAsync(cancellationToken);
        var published = true;
        try
        {
            foreach (var device in devices)
                await publisher.PublishAsync(device.SerialNumber, device.DesiredVersion, deviceFunction, cancellationToken);
        }
        catch (Exception ex) when (DeviceConfigPublisher.IsBrokerFailure(ex))
        {
            published = false;
        }

        await transaction.CommitAsync(cancellationToken);
        return (devices, published);
    }

    private static ProblemHttpResult? InvalidFunction(DeviceFunctionChange change) =>
        string.IsNullOrWhiteSpace(change.DeviceFunction) || change.DeviceFunction.Length > 100
            ? TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid device function", detail: "device_function must be 1 to 100 characters.")
            : null;

    private static ProblemHttpResult BrokerUnavailable() =>
        TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Broker unavailable",
            detail: "The new version is saved but the broker did not take it; repeat the request when the broker is up (it publishes the next version).");

    private static DeviceTwin Twin(TelemetryDevice device) =>
        new(device.SerialNumber, device.DeviceFunction!, device.DesiredVersion, device.ReportedVersion, device.ReportedAt,
            device.ReportedVersion == device.DesiredVersion);

    private static async Task<FileContentHttpResult> History(TelemetryDbContext db, CancellationToken cancellationToken)
    {
        var rows = await db.CredentialIssuances.AsNoTracking().OrderBy(i => i.Id)
            .Select(i => new { i.SerialNumber, i.DeviceName, i.CreatedAt }).ToListAsync(cancellationToken);
        var csv = new StringBuilder("device_id,device_name,credential_creation_date\n");
        foreach (var row in rows)
        {
            csv.Append(Csv.Field(row.SerialNumber)).Append(',')
                .Append(row.DeviceName.ToString(CultureInfo.InvariantCulture)).Append(',')
                .Append(row.CreatedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)).Append('\n');
        }

        return TypedResults.File(Encoding.UTF8.GetBytes(csv.ToString()), "text/csv", "telemetry-credentials.csv");
    }
}

internal static class Csv
{
    /// <summary>RFC 4180 quoting, and a leading quote for values a spreadsheet would run as a formula.</summary>
    public static string Field(string value)
    {
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@')
            value = "'" + value;
        return value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}
