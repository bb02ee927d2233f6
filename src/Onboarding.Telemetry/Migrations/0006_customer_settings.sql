-- A customer's telemetry settings. auto_credential: deliver a telemetry credential to each of the customer's devices
-- over its call-home session once it is Onboarded (README "Telemetry"); off unless the customer turns it on, so no
-- row means off.
CREATE TABLE telemetry.customer_settings (
    customer_id uuid NOT NULL,
    auto_credential boolean NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT pk_customer_settings PRIMARY KEY (customer_id)
);
