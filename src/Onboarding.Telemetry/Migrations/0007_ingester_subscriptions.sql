-- The topic filters an ingester's persistent MQTT session holds at the broker, per MQTT client id. A session outlives the
-- ingester (Session Expiry 24 h), and SUBSCRIBE adds to it: when the configured filters change (a $share/ group on or
-- off), the ingester unsubscribes the recorded filters it no longer wants (MQTT 5.0 §3.10), so the broker neither
-- delivers each message twice nor queues for a filter nobody reads (README "Telemetry").
CREATE TABLE telemetry.ingester_subscriptions (
    client_id     text                     NOT NULL,
    filter        text                     NOT NULL,
    subscribed_at timestamp with time zone NOT NULL,
    CONSTRAINT pk_ingester_subscriptions PRIMARY KEY (client_id, filter)
);
