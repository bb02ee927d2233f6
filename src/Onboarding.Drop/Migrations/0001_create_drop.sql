-- The SFTP drop: every file a manufacturer uploaded, kept raw (accepted or not), with its outcome.
CREATE SCHEMA drop;

CREATE TABLE drop.uploads (
    id              uuid                     NOT NULL,
    manufacturer_id uuid                     NOT NULL,
    customer_id     uuid                     NOT NULL,
    file_name       character varying(128)   NOT NULL,
    size            bigint                   NOT NULL,
    sha256          character varying(64)    NOT NULL,
    content         bytea                    NOT NULL,
    received_at     timestamp with time zone NOT NULL,
    outcome         character varying(16)    NOT NULL,
    summary         text                     NOT NULL,
    report          text                     NOT NULL,
    CONSTRAINT pk_uploads PRIMARY KEY (id)
);
CREATE INDEX ix_uploads_manufacturer_id_received_at ON drop.uploads (manufacturer_id, received_at);
