-- Accounts: customers of the NMS and the manufacturers each customer has registered.
CREATE SCHEMA accounts;

CREATE TABLE accounts.customers (
    id                       uuid                     NOT NULL,
    name                     character varying(200)   NOT NULL,
    contact_email            character varying(320)   NOT NULL,
    notification_webhook_url character varying(2048),
    api_key_id               character varying(16)    NOT NULL,
    api_key_hash             bytea                    NOT NULL,
    created_at               timestamp with time zone NOT NULL,
    CONSTRAINT pk_customers PRIMARY KEY (id)
);
CREATE UNIQUE INDEX ix_customers_api_key_id ON accounts.customers (api_key_id);

CREATE TABLE accounts.manufacturers (
    id                     uuid                     NOT NULL,
    customer_id            uuid                     NOT NULL,
    name                   character varying(200)   NOT NULL,
    normalized_name        character varying(200)   NOT NULL,
    server_dns_name        character varying(253)   NOT NULL,
    sftp_username          character varying(64)    NOT NULL,
    passphrase_hash        character varying(256)   NOT NULL,
    enabled                boolean                  NOT NULL,
    created_at             timestamp with time zone NOT NULL,
    credentials_rotated_at timestamp with time zone NOT NULL,
    disabled_at            timestamp with time zone,
    CONSTRAINT pk_manufacturers PRIMARY KEY (id),
    CONSTRAINT fk_manufacturers_customer_id FOREIGN KEY (customer_id) REFERENCES accounts.customers (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX ix_manufacturers_customer_id_normalized_name ON accounts.manufacturers (customer_id, normalized_name);
CREATE UNIQUE INDEX ix_manufacturers_sftp_username ON accounts.manufacturers (sftp_username);
