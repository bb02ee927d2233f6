-- One identity per device (DESIGN.md "One device, one lifecycle"): telemetry keys its devices by the device module's
-- DeviceId instead of the bare serial. The serial stays, unique, as the device's broker identity (certificate CN,
-- broker user, devices/<serial>/… topics): the ingester still maps a topic's serial to the device name with it.
-- Readings are keyed by device_name, which does not change, so no reading is rewritten or lost.
--
-- Existing rows learn their DeviceId from the inventory device with the same customer and serial. This one-off read
-- of another module's table is the only way a SQL migration can join the two identities; the code never does it.
-- Credentials were only ever issued to bookkept devices and inventory devices are never deleted, so every row has
-- one; if one has not, the migration stops and says which, rather than drop the device's readings. On an empty
-- telemetry schema (a new database) inventory is not read at all, so this does not depend on the modules' order.
ALTER TABLE telemetry.devices ADD COLUMN device_id uuid;

DO $$
DECLARE
    orphans text;
BEGIN
    IF EXISTS (SELECT 1 FROM telemetry.devices) THEN
        UPDATE telemetry.devices t SET device_id = i.id
        FROM inventory.devices i
        WHERE i.customer_id = t.customer_id AND i.serial_number = t.serial_number;
    END IF;
    SELECT string_agg(serial_number, ', ' ORDER BY serial_number) INTO orphans FROM telemetry.devices WHERE device_id IS NULL;
    IF orphans IS NOT NULL THEN
        RAISE EXCEPTION 'telemetry devices without an inventory device of the same customer and serial: %', orphans
            USING HINT = 'Bookkeep these devices for their customer (or correct telemetry.devices.customer_id), then migrate again; nothing was changed.';
    END IF;
END
$$;

ALTER TABLE telemetry.devices ALTER COLUMN device_id SET NOT NULL;
ALTER TABLE telemetry.devices DROP CONSTRAINT pk_devices;
ALTER TABLE telemetry.devices ADD CONSTRAINT pk_devices PRIMARY KEY (device_id);
CREATE UNIQUE INDEX ix_devices_serial_number ON telemetry.devices (serial_number);

-- Every issuance belongs to a device row written in the same transaction.
ALTER TABLE telemetry.credential_issuances ADD COLUMN device_id uuid;
UPDATE telemetry.credential_issuances c SET device_id = d.device_id FROM telemetry.devices d WHERE d.serial_number = c.serial_number;
ALTER TABLE telemetry.credential_issuances ALTER COLUMN device_id SET NOT NULL;
DROP INDEX telemetry.ix_credential_issuances_serial_number;
CREATE INDEX ix_credential_issuances_device_id ON telemetry.credential_issuances (device_id);
