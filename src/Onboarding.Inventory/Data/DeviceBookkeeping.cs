using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Npgsql;
using Onboarding.Accounts.Contracts;
using Onboarding.Inventory.Contracts;
using Onboarding.Inventory.Lifecycle;
using Onboarding.Inventory.Records;

namespace Onboarding.Inventory.Data;

internal sealed class DeviceBookkeeping(InventoryDbContext db, IManufacturerAccounts accounts, TimeProvider clock, ILogger<DeviceBookkeeping> logger)
    : IDeviceBookkeeping
{
    public async Task<BookkeepingOutcome> BookkeepAsync(Guid manufacturerId, string fileName, string source, ReadOnlyMemory<byte> content,
        CancellationToken cancellationToken)
    {
        var trust = await accounts.GetTrustAsync(manufacturerId, cancellationToken);
        if (trust is not { Enabled: true })
            return Rejected("the manufacturer account is disabled; the customer must enable it before records are accepted", [], []);

        var (records, errors) = DeviceRecordParser.Parse(content);
        if (errors.Count > 0)
            return Rejected($"the file is not a valid onboarding-device document: {errors[0]}", [.. errors.Select(e => $"invalid: {e}")], errors);
        if (records.Count == 0)
            return Rejected("the file holds no device records", [], []);

        // A concurrent upload of the same serial can win the unique index between our read and our insert;
        // the second pass then sees that device and answers "unchanged" or "conflict" like any other.
        try
        {
            return await BookkeepRecordsAsync(trust, records, fileName, source, cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            db.ChangeTracker.Clear();
            return await BookkeepRecordsAsync(trust, records, fileName, source, cancellationToken);
        }
    }

    public async Task<IReadOnlyList<BookkeepingOutcome>> BookkeepGroupAsync(Guid manufacturerId, string source, IReadOnlyList<BookkeepingFile> files,
        CancellationToken cancellationToken)
    {
        var trust = await accounts.GetTrustAsync(manufacturerId, cancellationToken);
        if (trust is not { Enabled: true })
            return [.. files.Select(_ => Rejected("the manufacturer account is disabled; the customer must enable it before records are accepted", [], []))];

        var parsed = files.Select(f => DeviceRecordParser.Parse(f.Content)).ToList();
        var serials = parsed.SelectMany(p => p.Records).Select(r => r.SerialNumber).Distinct(StringComparer.Ordinal).ToList();
        var existing = await ExistingAsync(trust, serials, cancellationToken);
        var now = clock.GetUtcNow();
        var outcomes = new List<BookkeepingOutcome>(files.Count);
        var additions = new List<(Device Device, string FileName)>();
        for (var i = 0; i < files.Count; i++)
        {
            var (outcome, added) = Judge(trust, parsed[i].Records, parsed[i].Errors, files[i].FileName, source, existing, now);
            outcomes.Add(outcome);
            // A later file of the group sees this file's new devices as bookkept (a re-upload in the group is "unchanged").
            foreach (var device in added)
            {
                existing[device.SerialNumber] = device;
                additions.Add((device, files[i].FileName));
            }
        }

        try
        {
            await SaveAsync(additions, cancellationToken);
        }
        catch
        {
            db.ChangeTracker.Clear();
            throw;
        }

        return outcomes;
    }

    private async Task<BookkeepingOutcome> BookkeepRecordsAsync(ManufacturerTrust trust, IReadOnlyList<DeviceRecord> records, string fileName,
        string source, CancellationToken cancellationToken)
    {
        var existing = await ExistingAsync(trust, [.. records.Select(r => r.SerialNumber)], cancellationToken);
        var (outcome, additions) = Judge(trust, records, [], fileName, source, existing, clock.GetUtcNow());
        await SaveAsync([.. additions.Select(d => (d, fileName))], cancellationToken);
        return outcome;
    }

    private Task<Dictionary<string, Device>> ExistingAsync(ManufacturerTrust trust, List<string> serials, CancellationToken cancellationToken) =>
        db.Devices.Where(d => d.CustomerId == trust.CustomerId && serials.Contains(d.SerialNumber))
            .ToDictionaryAsync(d => d.SerialNumber, StringComparer.Ordinal, cancellationToken);

    private async Task SaveAsync(List<(Device Device, string FileName)> additions, CancellationToken cancellationToken)
    {
        if (additions.Count == 0)
            return;
        db.Devices.AddRange(additions.Select(a => a.Device));
        await db.SaveChangesAsync(cancellationToken);
        foreach (var (device, fileName) in additions)
        {
            logger.LogInformation("Device {Serial} of customer {CustomerId} bookkept from manufacturer {ManufacturerId} ({FileName})",
                device.SerialNumber, device.CustomerId, device.ManufacturerId, fileName);
        }
    }

    /// <summary>One file's verdict against the devices known so far; its new devices, to be saved only if it is accepted.</summary>
    private static (BookkeepingOutcome Outcome, List<Device> Additions) Judge(ManufacturerTrust trust, IReadOnlyList<DeviceRecord> records,
        IReadOnlyList<string> errors, string fileName, string source, Dictionary<string, Device> existing, DateTimeOffset now)
    {
        if (errors.Count > 0)
            return (Rejected($"the file is not a valid onboarding-device document: {errors[0]}", [.. errors.Select(e => $"invalid: {e}")], errors), []);
        if (records.Count == 0)
            return (Rejected("the file holds no device records", [], []), []);

        var lines = new List<string>(records.Count);
        var additions = new List<Device>();
        var newLines = new List<(int Index, string Label)>();
        var reasonsByRecord = new List<string>();
        var unchanged = 0;
        foreach (var record in records)
        {
            var reasons = new List<string>();
            using var certificate = CheckRecord(record, trust, now, reasons);
            var fingerprint = certificate is null ? null : Convert.ToHexStringLower(SHA256.HashData(certificate.RawData));
            if (certificate is not null && existing.TryGetValue(record.SerialNumber, out var known))
            {
                if (known.ManufacturerId != trust.ManufacturerId)
                    reasons.Add("this serial number was already bookkept from another manufacturer");
                else if (known.CertificateSha256 != fingerprint)
                    reasons.Add($"this serial number was already bookkept with a different certificate (SHA-256 {known.CertificateSha256})");
            }
            else if (certificate is not null && additions.Find(d => d.SerialNumber == record.SerialNumber) is { } earlier
                && earlier.CertificateSha256 != fingerprint)
            {
                reasons.Add($"this serial number appears earlier in the file with a different certificate (SHA-256 {earlier.CertificateSha256})");
            }

            var label = $"record at line {record.Line}, serial-number {record.SerialNumber}";
            if (reasons.Count > 0)
            {
                reasonsByRecord.Add($"{label}: {string.Join("; ", reasons)}");
                lines.Add($"{label}: REJECTED: {string.Join("; ", reasons)}");
                continue;
            }

            if (existing.ContainsKey(record.SerialNumber) || additions.Exists(d => d.SerialNumber == record.SerialNumber))
            {
                unchanged++;
                lines.Add($"{label}: unchanged (already bookkept with this certificate)");
                continue;
            }

            var device = new Device
            {
                Id = DeviceId.New(),
                CustomerId = trust.CustomerId,
                SerialNumber = record.SerialNumber,
                ManufacturerId = trust.ManufacturerId,
                Model = record.Model,
                HardwareModel = record.HardwareModel,
                OsVersion = record.OsVersion,
                MacAddress = record.MacAddress,
                OrderId = record.OrderId,
                CertificateDer = certificate!.RawData,
                CertificateSha256 = fingerprint!,
                CertificateSubject = certificate.Subject,
                PublicKeySha256 = DeviceCertificate.PublicKeySha256(certificate),
            };
            DeviceSteps.Begin(device, source, $"Bookkept from manufacturer '{trust.ManufacturerName}', file '{fileName}', line {record.Line}", now);
            additions.Add(device);
            newLines.Add((lines.Count, label));
            lines.Add($"{label}: bookkept (new)");
        }

        if (reasonsByRecord.Count > 0)
        {
            // All or nothing: a good record in a rejected file was not bookkept, and its line must not say it was.
            foreach (var (index, label) in newLines)
                lines[index] = $"{label}: acceptable, but not bookkept: the file was rejected";
            return (Rejected($"{reasonsByRecord.Count} of {records.Count} records rejected; nothing from this file was bookkept", lines, reasonsByRecord), []);
        }

        return (new BookkeepingOutcome(true, $"{records.Count} records: {additions.Count} new, {unchanged} unchanged", lines, additions.Count, unchanged), additions);
    }

    /// <summary>Everything that can be checked without the database. Returns the parsed certificate when it is usable.</summary>
    private static X509Certificate2? CheckRecord(DeviceRecord record, ManufacturerTrust trust, DateTimeOffset now, List<string> reasons)
    {
        if (!OwnerMatches(record.Owner, trust))
            reasons.Add($"owner '{record.Owner}' is not the customer this SFTP account belongs to (use the customer's NMS id {trust.CustomerId} or name)");

        var certificate = DeviceCertificate.Parse(record.Certificate, out var error);
        if (certificate is null)
        {
            reasons.Add(error!);
            return null;
        }

        var serial = DeviceCertificate.ExtractSerial(certificate, trust.SerialExtraction);
        if (serial is null)
            reasons.Add($"the certificate has no subject {(trust.SerialExtraction == SerialExtraction.SubjectCommonName ? "CN" : "serialNumber")} to compare with serial-number");
        else if (!string.Equals(serial, record.SerialNumber, StringComparison.Ordinal))
            reasons.Add($"the certificate's serial '{serial}' does not match serial-number '{record.SerialNumber}'");

        if (now < certificate.NotBefore.ToUniversalTime() || now > certificate.NotAfter.ToUniversalTime())
            reasons.Add($"the certificate is not valid now (valid {certificate.NotBefore.ToUniversalTime():u} to {certificate.NotAfter.ToUniversalTime():u})");
        else if (trust.CaCertificates.Count > 0 && DeviceCertificate.VerifyChain(certificate, trust.CaCertificates, now) is { } chainError)
            reasons.Add(chainError);

        if (reasons.Count == 0)
            return certificate;
        certificate.Dispose();
        return null;
    }

    private static bool OwnerMatches(string owner, ManufacturerTrust trust) =>
        (Guid.TryParse(owner, out var id) && id == trust.CustomerId)
        || string.Equals(owner.Trim(), trust.CustomerName.Trim(), StringComparison.OrdinalIgnoreCase);

    private static BookkeepingOutcome Rejected(string summary, IReadOnlyList<string> lines, IReadOnlyList<string> reasons) =>
        new(false, summary, lines, 0, 0) { Reasons = reasons };
}
