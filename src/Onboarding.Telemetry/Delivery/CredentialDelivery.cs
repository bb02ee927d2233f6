using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Onboarding.Inventory.Contracts;
using Onboarding.Netconf;
using Onboarding.Netconf.Datastore;
using Onboarding.Netconf.Messages;
using Onboarding.Ssh;
using Onboarding.Telemetry.Contracts;
using Onboarding.Telemetry.Data;
using Onboarding.Telemetry.Pki;

namespace Onboarding.Telemetry.Delivery;

/// <summary>
/// <see cref="ITelemetryCredentialDelivery"/> over NETCONF (RFC 6241) on a new "netconf" channel of the call-home session:
/// hello (the device must announce <see cref="TelemetryYang.Capability"/>), get-config of the telemetry container (a
/// device holding a valid certificate of ours is done), generate-csr, signing, the issuance recorded (so every
/// certificate that leaves the NMS can be revoked), edit-config (candidate + commit, or running), get-config to verify,
/// and the <c>telemetry-credential-issued</c> timeline entry. A failure after the issuance was recorded revokes it.
/// </summary>
internal sealed partial class CredentialDelivery(
    TelemetryDbContext db,
    DeviceCertificateAuthority ca,
    RevocationList revocationList,
    IDeviceLifecycle lifecycle,
    IOptions<TelemetryOptions> options,
    TimeProvider clock,
    ILogger<CredentialDelivery> logger) : ITelemetryCredentialDelivery
{
    public const string IssuedStep = "telemetry-credential-issued";
    public const string FailedStep = "telemetry-credential-failed";

    public async Task<TelemetryCredentialOutcome> DeliverAsync(DeviceIdentity device, SshClientSession session, string source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(session);
        if (device.State != DeviceState.Onboarded)
            return new(TelemetryCredentialResult.NotOnboarded, $"a device in state {device.State} gets no telemetry credential");

        var enabled = await db.CustomerSettings.AsNoTracking().Where(s => s.CustomerId == device.CustomerId)
            .Select(s => s.AutoCredential).SingleOrDefaultAsync(cancellationToken);
        if (!enabled)
        {
            LogNotEnabled(device.SerialNumber, device.Id);
            return new(TelemetryCredentialResult.NotEnabled, "the customer's autoCredential setting is off");
        }

        var serial = device.SerialNumber;
        if (serial.AsSpan().IndexOfAny('/', '+', '#') >= 0)
            return await FailAsync(device, source, "the serial number contains '/', '+' or '#' and cannot be a broker identity (devices/<serial>/…)", cancellationToken);
        if (await db.Devices.AnyAsync(d => d.SerialNumber == serial && d.DeviceId != device.Id, cancellationToken))
            return await FailAsync(device, source, "another device with the same serial number already has telemetry credentials (the broker knows devices by serial alone)", cancellationToken);

        var settings = options.Value;
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(settings.CredentialDeliveryTimeout);
        var step = "netconf subsystem";
        CredentialIssuance? issued = null;
        try
        {
            var channel = await session.OpenSessionAsync(bounded.Token);
            try
            {
                if (!await channel.RequestSubsystemAsync("netconf", bounded.Token))
                    return await FailAsync(device, source, "the device refused the netconf subsystem", cancellationToken);
                step = "hello";
                using var netconf = await NetconfClientSession.ConnectAsync(channel.AsStream(), null, bounded.Token);
                if (!netconf.ServerCapabilities.Has(TelemetryYang.Capability))
                    return await FailAsync(device, source, $"the device does not announce the capability {TelemetryYang.Capability} (generate-csr)", cancellationToken);

                step = "get-config";
                var now = clock.GetUtcNow();
                using (var held = TelemetryYang.HeldCertificate(await netconf.GetConfigAsync(DatastoreName.Running, TelemetryYang.Filter(), bounded.Token)))
                {
                    if (held is not null && await IsValidIssuanceAsync(device.Id, held, now, cancellationToken))
                    {
                        LogAlreadyHeld(serial, device.Id, held.SerialNumber);
                        await BestEffortAsync(() => netconf.CloseSessionAsync(bounded.Token));
                        return new(TelemetryCredentialResult.AlreadyHeld, $"the device holds certificate {held.SerialNumber}, valid until {held.NotAfter.ToUniversalTime():O}");
                    }
                }

                step = "generate-csr";
                var reply = await netconf.RpcAsync(TelemetryYang.GenerateCsr(serial), bounded.Token);
                if (reply.HasErrors)
                    return await FailAsync(device, source, "generate-csr refused by the device: " + string.Join("; ", reply.Errors.Select(e => e.ToString())), cancellationToken);
                var publicKey = TelemetryYang.ReadCsr(reply.Element);

                step = "signing";
                using var certificate = ca.IssueDeviceCertificate(serial, publicKey, settings.CertificateLifetime);
                var telemetryDevice = await RecordIssuanceAsync(device, certificate, now, cancellationToken);
                issued = telemetryDevice.Issuance;
                var config = TelemetryYang.Configuration(serial, telemetryDevice.DeviceName, telemetryDevice.DeviceFunction ?? settings.DefaultDeviceFunction,
                    settings.Broker.PublicHost, settings.Broker.DevicePort, certificate, ca.Certificate);

                step = "edit-config";
                var how = await WriteAsync(netconf, config, bounded.Token);

                step = "verification";
                using (var written = TelemetryYang.HeldCertificate(await netconf.GetConfigAsync(DatastoreName.Running, TelemetryYang.Filter(), bounded.Token)))
                {
                    if (written is null || !written.RawDataMemory.Span.SequenceEqual(certificate.RawDataMemory.Span))
                        return await RevokeAndFailAsync(device, source, issued, "verification with get-config: the device's running configuration does not hold the certificate written", cancellationToken);
                }

                await BestEffortAsync(() => netconf.CloseSessionAsync(bounded.Token));
                var detail = string.Create(CultureInfo.InvariantCulture,
                    $"{IssuedStep}: certificate {certificate.SerialNumber} (CN {serial}, device name {telemetryDevice.DeviceName}, valid until {certificate.NotAfter.ToUniversalTime():yyyy-MM-ddTHH:mm:ssZ}) for the key the device generated; {how}; broker {settings.Broker.PublicHost}:{settings.Broker.DevicePort}");
                await RecordAsync(device, source, detail, unlessRepeated: false, cancellationToken);
                LogIssued(serial, device.Id, certificate.SerialNumber, telemetryDevice.DeviceName);
                return new(TelemetryCredentialResult.Issued, detail);
            }
            finally
            {
                await BestEffortAsync(() => channel.CloseAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None));
            }
        }
        catch (NetconfRpcException e)
        {
            return await RevokeAndFailAsync(device, source, issued, $"{step} refused by the device: {string.Join("; ", e.Errors.Select(x => x.ToString()))}", cancellationToken);
        }
        catch (FormatException e)
        {
            return await RevokeAndFailAsync(device, source, issued, $"{step}: {e.Message}", cancellationToken);
        }
        catch (OperationCanceledException) when (bounded.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return await RevokeAndFailAsync(device, source, issued,
                string.Create(CultureInfo.InvariantCulture, $"no answer within {settings.CredentialDeliveryTimeout} (Telemetry:CredentialDeliveryTimeout) at {step}"), cancellationToken);
        }
        catch (Exception e) when (e is NetconfException or SshConnectionLostException or SshProtocolException or SshChannelOpenException or IOException)
        {
            return await RevokeAndFailAsync(device, source, issued, $"the session broke at {step}: {e.Message}", cancellationToken);
        }
    }

    /// <summary>True when the certificate is one we issued to this device, not revoked and not expired.</summary>
    private async Task<bool> IsValidIssuanceAsync(DeviceId deviceId, X509Certificate2 held, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (held.NotAfter.ToUniversalTime() <= now.UtcDateTime)
            return false;
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(held.RawData));
        return await db.CredentialIssuances.AnyAsync(i => i.DeviceId == deviceId && i.CertificateSha256 == sha256 && i.RevokedAt == null, cancellationToken);
    }

    private sealed record Recorded(long DeviceName, string? DeviceFunction, CredentialIssuance Issuance);

    /// <summary>The device row (new ones get the next device name) and the issuance, committed before the certificate leaves.</summary>
    private async Task<Recorded> RecordIssuanceAsync(DeviceIdentity identity, X509Certificate2 certificate, DateTimeOffset now, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var device = await TelemetryDeviceRows.GetOrAddAsync(db, identity, now, cancellationToken);
                var issuance = new CredentialIssuance
                {
                    DeviceId = device.DeviceId,
                    SerialNumber = identity.SerialNumber,
                    DeviceName = device.DeviceName,
                    CertificateSerial = certificate.SerialNumber,
                    CertificateSha256 = Convert.ToHexStringLower(SHA256.HashData(certificate.RawData)),
                    CreatedAt = now,
                };
                db.CredentialIssuances.Add(issuance);
                await db.SaveChangesAsync(cancellationToken);
                return new Recorded(device.DeviceName, device.DeviceFunction, issuance);
            }
            catch (DbUpdateException e) when (attempt == 0 && e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
            {
                // A concurrent first issuance (the admin API) created the device row; the second pass finds it.
                db.ChangeTracker.Clear();
            }
        }
    }

    /// <summary>RFC 6241 §8.3 (candidate, then commit) or §8.2 (writable running); returns how, for the timeline.</summary>
    private static async Task<string> WriteAsync(NetconfClientSession netconf, System.Xml.Linq.XElement config, CancellationToken cancellationToken)
    {
        var capabilities = netconf.ServerCapabilities;
        if (capabilities.HasCandidate)
        {
            try
            {
                await netconf.EditConfigAsync(DatastoreName.Candidate, config, cancellationToken: cancellationToken);
                await netconf.CommitAsync(cancellationToken);
            }
            catch (NetconfRpcException)
            {
                // Leave no half-edited candidate behind (§8.3.4.2).
                await BestEffortAsync(() => netconf.DiscardChangesAsync(cancellationToken));
                throw;
            }

            return "edit-config to candidate, commit";
        }

        if (capabilities.HasWritableRunning)
        {
            await netconf.EditConfigAsync(DatastoreName.Running, config, cancellationToken: cancellationToken);
            return "edit-config to running";
        }

        throw new NetconfRpcException(new RpcError(RpcErrorType.Protocol, "operation-not-supported", RpcErrorSeverity.Error,
            Message: "the device offers neither :candidate nor :writable-running (RFC 6241 §8.3, §8.2)"));
    }

    private async Task<TelemetryCredentialOutcome> RevokeAndFailAsync(DeviceIdentity device, string source, CredentialIssuance? issued, string detail, CancellationToken cancellationToken)
    {
        if (issued is not null)
        {
            // The certificate may have reached the device: revoke it, so only a delivered credential is ever valid.
            issued.RevokedAt = clock.GetUtcNow();
            await db.SaveChangesAsync(cancellationToken);
            await revocationList.PublishAsync(cancellationToken);
            await revocationList.ReloadBrokerAsync(cancellationToken);
            detail += $" (certificate {issued.CertificateSerial} revoked)";
        }

        return await FailAsync(device, source, detail, cancellationToken);
    }

    private async Task<TelemetryCredentialOutcome> FailAsync(DeviceIdentity device, string source, string detail, CancellationToken cancellationToken)
    {
        var line = Truncate($"{FailedStep}: {detail}; the device stays {device.State}");
        LogFailed(device.SerialNumber, device.Id, line);
        // A lasting cause (no capability) is on the timeline once, not again on every call home; the log has each.
        await RecordAsync(device, source, line, unlessRepeated: true, cancellationToken);
        return new(TelemetryCredentialResult.Failed, line);
    }

    /// <summary>A timeline entry without a state change: the device stays Onboarded whatever happens here.</summary>
    private async Task RecordAsync(DeviceIdentity device, string source, string detail, bool unlessRepeated, CancellationToken cancellationToken)
    {
        try
        {
            await lifecycle.RecordStepAsync(device.Id, new DeviceStep(null, source, detail, unlessRepeated), cancellationToken);
        }
        catch (DeviceNotFoundException e)
        {
            logger.LogWarning("Telemetry credential of {Serial}: not on the timeline: {Reason}", device.SerialNumber, e.Message);
        }
    }

    /// <summary>Timeline details stay one readable line.</summary>
    private static string Truncate(string text)
    {
        var line = text.ReplaceLineEndings(" / ").Trim();
        return line.Length <= 600 ? line : line[..599] + "…";
    }

    /// <summary>Clean-up (discard, close) must not hide the error that brought us here.</summary>
    private static async Task BestEffortAsync(Func<Task> action)
    {
        try
        {
            await action();
        }
        catch (Exception e) when (e is NetconfException or NetconfRpcException or SshConnectionLostException or SshProtocolException or IOException
            or OperationCanceledException or TimeoutException or ObjectDisposedException)
        {
            // Already failing or finished; the channel is closed by the caller either way.
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Telemetry credential of {Serial} ({DeviceId}): not delivered, the customer's autoCredential is off")]
    private partial void LogNotEnabled(string serial, DeviceId deviceId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Telemetry credential of {Serial} ({DeviceId}): the device already holds certificate {CertificateSerial}; nothing issued")]
    private partial void LogAlreadyHeld(string serial, DeviceId deviceId, string certificateSerial);

    [LoggerMessage(Level = LogLevel.Information, Message = "Telemetry credential of {Serial} ({DeviceId}): issued certificate {CertificateSerial} (device name {DeviceName}) over call home")]
    private partial void LogIssued(string serial, DeviceId deviceId, string certificateSerial, long deviceName);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Telemetry credential of {Serial} ({DeviceId}) not delivered: {Detail}")]
    private partial void LogFailed(string serial, DeviceId deviceId, string detail);
}
