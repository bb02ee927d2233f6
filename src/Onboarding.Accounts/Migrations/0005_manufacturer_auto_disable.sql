-- White paper step 5: the customer may have a manufacturer's SFTP access closed automatically once all its devices
-- are onboarded (off by default); why an account was disabled is kept for the customer to see.
ALTER TABLE accounts.manufacturers
    ADD COLUMN disable_when_all_devices_onboarded boolean NOT NULL DEFAULT false,
    ADD COLUMN disabled_reason character varying(500);
