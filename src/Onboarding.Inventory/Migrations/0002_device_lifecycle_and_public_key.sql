-- One device lifecycle owned by this module (DESIGN.md "One device, one lifecycle"): Bookkept → Bootstrapping →
-- CalledHome → Configured → Onboarded, any → Rejected, Onboarded → Reprovisioning → Bootstrapping.
-- Expected, Authenticated and Redirected were the redirect server's order states, never the NMS's: a device the NMS
-- holds was at most bookkept by it in any of them, so they become Bookkept, on the device and on its timeline.
UPDATE inventory.devices SET state = 'Bookkept' WHERE state IN ('Expected', 'Authenticated', 'Redirected');
UPDATE inventory.device_events SET state = 'Bookkept' WHERE state IN ('Expected', 'Authenticated', 'Redirected');

-- Call home identifies a device by the key it presents: the SHA-256 of its IDevID certificate's DER
-- SubjectPublicKeyInfo (lower-case hex). Backfilled here from certificate_der by walking the DER (RFC 5280 §4.1):
-- Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL, serialNumber, signature, issuer,
-- validity, subject, subjectPublicKeyInfo, … }, … }. Every stored certificate was parsed as X.509 when bookkept.
-- pg_temp: the helpers live only for this migration's session.
CREATE FUNCTION pg_temp.der_header_length(der bytea, pos integer) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN get_byte(der, pos + 1) < 128 THEN 2 ELSE 2 + (get_byte(der, pos + 1) & 127) END
$$;
CREATE FUNCTION pg_temp.der_content_length(der bytea, pos integer) RETURNS integer LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    first integer := get_byte(der, pos + 1);
    length integer := 0;
BEGIN
    IF first < 128 THEN
        RETURN first;
    END IF;
    FOR i IN 1 .. (first & 127) LOOP
        length := length * 256 + get_byte(der, pos + 1 + i);
    END LOOP;
    RETURN length;
END
$$;
CREATE FUNCTION pg_temp.der_next(der bytea, pos integer) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT pos + pg_temp.der_header_length(der, pos) + pg_temp.der_content_length(der, pos)
$$;
CREATE FUNCTION pg_temp.spki_sha256(der bytea) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    pos integer := pg_temp.der_header_length(der, 0);      -- tbsCertificate
BEGIN
    pos := pos + pg_temp.der_header_length(der, pos);       -- its first element
    IF get_byte(der, pos) = 160 THEN                        -- [0] EXPLICIT version
        pos := pg_temp.der_next(der, pos);
    END IF;
    FOR i IN 1 .. 5 LOOP                                    -- serialNumber, signature, issuer, validity, subject
        pos := pg_temp.der_next(der, pos);
    END LOOP;
    RETURN encode(sha256(substring(der FROM pos + 1 FOR pg_temp.der_next(der, pos) - pos)), 'hex');
END
$$;

ALTER TABLE inventory.devices ADD COLUMN public_key_sha256 character varying(64);
UPDATE inventory.devices SET public_key_sha256 = pg_temp.spki_sha256(certificate_der);
ALTER TABLE inventory.devices ALTER COLUMN public_key_sha256 SET NOT NULL;
CREATE INDEX ix_devices_public_key_sha256 ON inventory.devices (public_key_sha256);

DROP FUNCTION pg_temp.spki_sha256(bytea);
DROP FUNCTION pg_temp.der_next(bytea, integer);
DROP FUNCTION pg_temp.der_content_length(bytea, integer);
DROP FUNCTION pg_temp.der_header_length(bytea, integer);
