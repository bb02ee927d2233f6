-- Readings are written by the ingester at the full message rate, and every index costs each copied row an insertion
-- (and its WAL). All queries reach readings through a device: the per-device range and the latest-per-device lookups
-- use the primary key (serial_number, signal_date), so the customer index is no longer used.
DROP INDEX telemetry.ix_readings_customer_id_signal_date;
