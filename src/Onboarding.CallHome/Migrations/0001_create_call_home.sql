-- Call home's session registry (DESIGN.md "Scale-out"): which host holds each device's live call-home session, so an
-- API call for a device reaches that host. A host gets a fresh id per process start; its rows go with it when its
-- heartbeat goes stale (ON DELETE CASCADE).
CREATE SCHEMA call_home;

CREATE TABLE call_home.hosts (
    host_id      uuid                     NOT NULL,
    api_url      character varying(512),
    started_at   timestamp with time zone NOT NULL,
    heartbeat_at timestamp with time zone NOT NULL,
    CONSTRAINT pk_hosts PRIMARY KEY (host_id)
);

CREATE TABLE call_home.sessions (
    device_id       uuid                     NOT NULL,
    customer_id     uuid                     NOT NULL,
    serial          character varying(64)    NOT NULL,
    host_id         uuid                     NOT NULL,
    connection_id   character varying(32)    NOT NULL,
    remote_endpoint character varying(64),
    since           timestamp with time zone NOT NULL,
    last_seen       timestamp with time zone NOT NULL,
    CONSTRAINT pk_sessions PRIMARY KEY (device_id),
    CONSTRAINT fk_sessions_host_id FOREIGN KEY (host_id) REFERENCES call_home.hosts (host_id) ON DELETE CASCADE
);
CREATE INDEX ix_sessions_customer_id_since ON call_home.sessions (customer_id, since);
CREATE INDEX ix_sessions_host_id ON call_home.sessions (host_id);
