-- The transactional outbox: a fact other work depends on is written here in the same transaction as the change
-- that caused it, then handed to its module's handler by a dispatcher (FOR UPDATE SKIP LOCKED, so several hosts share it).
CREATE SCHEMA outbox;

CREATE TABLE outbox.messages (
    id              uuid                     NOT NULL,
    type            character varying(200)   NOT NULL,
    payload         jsonb                    NOT NULL,
    created_at      timestamp with time zone NOT NULL DEFAULT now(),
    due_at          timestamp with time zone NOT NULL DEFAULT now(),
    attempts        integer                  NOT NULL DEFAULT 0,
    last_attempt_at timestamp with time zone,
    last_error      text,
    state           character varying(16)    NOT NULL DEFAULT 'pending',
    -- A claim is a lease: while locked_until is in the future one host runs the message; if that host dies,
    -- the lease runs out and another host takes the message again.
    locked_until    timestamp with time zone,
    lease_token     uuid,
    locked_by       text,
    done_at         timestamp with time zone,
    CONSTRAINT pk_messages PRIMARY KEY (id),
    CONSTRAINT ck_messages_state CHECK (state IN ('pending', 'done', 'dead'))
);
-- What the dispatcher scans: only pending rows, oldest due first.
CREATE INDEX ix_messages_due_at ON outbox.messages (due_at) WHERE state = 'pending';
CREATE INDEX ix_messages_dead ON outbox.messages (last_attempt_at) WHERE state = 'dead';
CREATE INDEX ix_messages_last_error ON outbox.messages (last_attempt_at) WHERE last_error IS NOT NULL;
CREATE INDEX ix_messages_done_at ON outbox.messages (done_at) WHERE state = 'done';
