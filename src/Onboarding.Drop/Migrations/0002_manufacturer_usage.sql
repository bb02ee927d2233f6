-- What each manufacturer's uploads take up, kept as a running total: the quota check on every upload reads and
-- reserves one row instead of aggregating every upload the manufacturer ever made.
CREATE TABLE drop.manufacturer_usage (
    manufacturer_id uuid    NOT NULL,
    files           integer NOT NULL,
    bytes           bigint  NOT NULL,
    CONSTRAINT pk_manufacturer_usage PRIMARY KEY (manufacturer_id)
);

INSERT INTO drop.manufacturer_usage (manufacturer_id, files, bytes)
SELECT manufacturer_id, count(*), coalesce(sum(size), 0) FROM drop.uploads GROUP BY manufacturer_id;
