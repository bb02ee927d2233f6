-- Device twin: the desired configuration version (published retained on devices/<serial>/config) and the
-- version the device last reported applying (on devices/<serial>/state).
ALTER TABLE telemetry.devices ADD COLUMN desired_version integer NOT NULL DEFAULT 0;
ALTER TABLE telemetry.devices ALTER COLUMN desired_version DROP DEFAULT;
ALTER TABLE telemetry.devices ADD COLUMN reported_version integer;
ALTER TABLE telemetry.devices ADD COLUMN reported_at timestamp with time zone;
