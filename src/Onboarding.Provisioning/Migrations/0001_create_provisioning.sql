-- Pre-configuration (issue 13): per customer and device type (the device's model, or '*' for any model without a
-- template of its own), the template applied when a device calls home (RFC 8071). kind: 'netconf' (a <config> body for
-- edit-config) or 'cli' (commands, one per line). Bodies may hold device passwords; customers ids are the accounts
-- module's, with no foreign key across modules.
CREATE SCHEMA provisioning;

CREATE TABLE provisioning.templates (
    customer_id uuid                     NOT NULL,
    device_type character varying(200)   NOT NULL,
    kind        character varying(16)    NOT NULL,
    body        text                     NOT NULL,
    created_at  timestamp with time zone NOT NULL,
    updated_at  timestamp with time zone NOT NULL,
    CONSTRAINT pk_templates PRIMARY KEY (customer_id, device_type),
    CONSTRAINT ck_templates_kind CHECK (kind IN ('netconf', 'cli'))
);
