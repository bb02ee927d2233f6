-- Which call-home configuration the NMS bootstrap server hands this manufacturer's devices (RFC 8572 onboarding
-- information): an ietf-netconf-server call-home configuration (default) or a Junos outbound-ssh stanza.
ALTER TABLE accounts.manufacturers
    ADD COLUMN call_home_style character varying(16) NOT NULL DEFAULT 'Netconf';
