-- The NMS bootstrap server (RFC 8572): the SSH host keys each device reported with bootstrap-complete (§7.3
-- ssh-host-keys), pinned for call home (RFC 8071), which identifies the device by the host key it presents.
-- A new bootstrap-complete replaces the device's keys. Device ids are the inventory's; no foreign key across modules.
CREATE SCHEMA nms_bootstrap;

CREATE TABLE nms_bootstrap.device_host_keys (
    device_id   uuid                     NOT NULL,
    fingerprint character varying(64)    NOT NULL,
    algorithm   character varying(64)    NOT NULL,
    key_data    bytea                    NOT NULL,
    pinned_at   timestamp with time zone NOT NULL,
    CONSTRAINT pk_device_host_keys PRIMARY KEY (device_id, fingerprint)
);
CREATE INDEX ix_device_host_keys_fingerprint ON nms_bootstrap.device_host_keys (fingerprint);
