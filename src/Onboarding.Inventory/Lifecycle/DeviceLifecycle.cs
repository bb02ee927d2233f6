using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Onboarding.Accounts.Contracts;
using Onboarding.Inventory.Contracts;
using Onboarding.Inventory.Data;
using Onboarding.ServiceDefaults.Database;
using Onboarding.ServiceDefaults.Outbox;

namespace Onboarding.Inventory.Lifecycle;

/// <summary>
/// Records other modules' steps. The device row is read with <c>FOR UPDATE</c> inside the transaction that writes the
/// new state and the timeline entry: a concurrent step on the same device waits for the commit and is then checked
/// against the state this one left (PostgreSQL re-reads a locked row at READ COMMITTED), so two steps can never both
/// leave the same state. A step that reaches an outcome the owner must hear about (Onboarded, Rejected) writes its
/// <see cref="DeviceStateChanged"/> fact to the outbox in that same transaction.
/// </summary>
internal sealed class DeviceLifecycle(InventoryDbContext db, IOutbox outbox, TimeProvider clock, ILogger<DeviceLifecycle> logger) : IDeviceLifecycle
{
    public async Task<DeviceStepRecorded> RecordStepAsync(DeviceId deviceId, DeviceStep deviceStep, CancellationToken cancellationToken)
    {
        DeviceSteps.Validate(deviceStep);
        if (deviceStep.Target is null)
            return await RecordTimelineEntryAsync(deviceId, deviceStep, cancellationToken);

        // A caller sharing this scope's DbContext may already have a transaction open; the step then commits with it.
        var ownTransaction = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
        try
        {
            var device = await db.Devices.FromSql($"SELECT * FROM inventory.devices WHERE id = {deviceId.Value} FOR UPDATE")
                .SingleOrDefaultAsync(cancellationToken) ?? throw new DeviceNotFoundException(deviceId);
            var recorded = DeviceSteps.Apply(device, deviceStep, clock.GetUtcNow().ToPostgresPrecision());
            if (DeviceStateChanged.IsOwnerOutcome(recorded.From, recorded.To))
            {
                await outbox.EnqueueAsync(db, DeviceStateChanged.MessageType, new DeviceStateChanged(
                    deviceId.Value, device.CustomerId, device.ManufacturerId, device.SerialNumber, recorded.From, recorded.To,
                    deviceStep.Source, deviceStep.Detail, recorded.At), cancellationToken);
            }

            // White paper step 5: Accounts may close the manufacturer's access once its last device is onboarded.
            if (recorded.To == DeviceState.Onboarded && recorded.From != DeviceState.Onboarded)
            {
                await outbox.EnqueueAsync(db, ManufacturerAccessReview.MessageType,
                    new ManufacturerAccessReview(device.ManufacturerId, deviceId.Value), cancellationToken);
            }

            await db.SaveChangesAsync(cancellationToken);
            if (ownTransaction is not null)
                await ownTransaction.CommitAsync(cancellationToken);
            logger.LogInformation("Device {DeviceId} went from {From} to {To} ({Source})", deviceId, recorded.From, recorded.To, deviceStep.Source);
            return recorded;
        }
        catch when (ownTransaction is not null)
        {
            // Nothing of a failed step may linger in this scope's context for a later SaveChanges. (A refused step never
            // touched the device; a caller's own transaction and tracked entities are the caller's to roll back.)
            db.ChangeTracker.Clear();
            throw;
        }
        finally
        {
            if (ownTransaction is not null)
                await ownTransaction.DisposeAsync();
        }
    }

    /// <summary>
    /// A step that changes no state (a progress report, a repeated request) is one statement: the <c>UPDATE</c> locks
    /// the device row as <c>FOR UPDATE</c> would, so it orders with concurrent steps the same way, and its entry carries
    /// the state the device has once the lock is held. Nothing here can be an owner outcome. One round trip instead of
    /// five: a device reports progress six times while it bootstraps (bench/README.md, onboard). With
    /// <see cref="DeviceStep.UnlessRepeated"/> the entry is left out when the latest one has the same detail; that
    /// latest entry is read from the statement's snapshot, so two such steps racing on one device may both add theirs.
    /// </summary>
    private async Task<DeviceStepRecorded> RecordTimelineEntryAsync(DeviceId deviceId, DeviceStep deviceStep, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().ToPostgresPrecision();
        var states = await db.Database.SqlQuery<string>($"""
            WITH device AS (UPDATE inventory.devices SET updated_at = {now} WHERE id = {deviceId.Value} RETURNING id, state),
            latest AS (SELECT detail FROM inventory.device_events WHERE device_id = {deviceId.Value} ORDER BY at DESC, id DESC LIMIT 1),
            added AS (
                INSERT INTO inventory.device_events (device_id, at, state, source, detail)
                SELECT id, {now}, state, {deviceStep.Source}, {deviceStep.Detail} FROM device
                WHERE NOT {deviceStep.UnlessRepeated} OR NOT EXISTS (SELECT 1 FROM latest WHERE latest.detail = {deviceStep.Detail}))
            SELECT state AS "Value" FROM device
            """).ToListAsync(cancellationToken);
        if (states.Count == 0)
            throw new DeviceNotFoundException(deviceId);
        var state = Enum.Parse<DeviceState>(states[0]);
        logger.LogDebug("Device {DeviceId} stayed {State} ({Source})", deviceId, state, deviceStep.Source);
        return new DeviceStepRecorded(deviceId, state, state, now);
    }
}
