-- An optional SSH public key (authorized_keys line) a manufacturer may log in to the SFTP drop with,
-- instead of or as well as its passphrase.
ALTER TABLE accounts.manufacturers
    ADD COLUMN sftp_public_key character varying(16384);
