-- Readings are keyed by the device's number instead of its serial, and the further metrics are two parallel arrays
-- instead of jsonb. Measured with a server-side binary COPY of 200,000 readings of 20 interleaved devices: 4.6 µs per
-- row before, 2.8 µs after. The varchar key column cost every index comparison a detoast and a memcmp, and made the
-- second key column's offset uncacheable; jsonb made PostgreSQL lex the JSON and parse each number as numeric.
-- device_name is issued once per device (unique in telemetry.devices), so (device_name, signal_date) identifies a
-- reading exactly as (serial_number, signal_date) did; the serial is found through telemetry.devices. Metric values
-- were already served as doubles (the API's metrics object), and the ingester accepts only finite numbers.
CREATE TABLE telemetry.readings_by_device (
    device_name   bigint                     NOT NULL,
    signal_date   timestamp with time zone   NOT NULL,
    customer_id   uuid                       NOT NULL,
    latitude      double precision           NOT NULL,
    longitude     double precision           NOT NULL,
    battery_level double precision           NOT NULL,
    metric_names  text[]                     NOT NULL,
    metric_values double precision[]         NOT NULL,
    received_at   timestamp with time zone   NOT NULL,
    CONSTRAINT pk_readings_by_device PRIMARY KEY (device_name, signal_date)
);

INSERT INTO telemetry.readings_by_device
SELECT r.device_name, r.signal_date, r.customer_id, r.latitude, r.longitude, r.battery_level,
       coalesce(m.names, '{}'), coalesce(m.vals, '{}'), r.received_at
FROM telemetry.readings r
LEFT JOIN LATERAL (
    SELECT array_agg(e.key ORDER BY e.key) AS names, array_agg((e.value #>> '{}')::double precision ORDER BY e.key) AS vals
    FROM jsonb_each(r.metrics) e) m ON true;

DROP TABLE telemetry.readings;
ALTER TABLE telemetry.readings_by_device RENAME TO readings;
ALTER TABLE telemetry.readings RENAME CONSTRAINT pk_readings_by_device TO pk_readings;
