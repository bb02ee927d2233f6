-- The manufacturer's factory CA (PEM bundle) that device IDevID certificates must chain to, and where in the
-- certificate the device serial number is found.
ALTER TABLE accounts.manufacturers
    ADD COLUMN ca_certificates_pem text,
    ADD COLUMN serial_extraction   character varying(32) NOT NULL DEFAULT 'SubjectSerialNumber';
