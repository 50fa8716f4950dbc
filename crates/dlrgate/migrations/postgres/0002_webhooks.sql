-- Webhooks: hooks per account, the delivery outbox (written in the same transaction as each
-- status change) and the attempt log.

ALTER TABLE accounts ADD COLUMN previous_signing_secret TEXT;
ALTER TABLE accounts ADD COLUMN previous_secret_until BIGINT;

CREATE TABLE hooks (
    id             BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id     BIGINT  NOT NULL REFERENCES accounts (id),
    target_url     TEXT    NOT NULL,
    event_type     TEXT    NOT NULL,
    request_method TEXT    NOT NULL,
    event_filter   TEXT,
    headers        TEXT    NOT NULL DEFAULT '',
    enabled        BOOLEAN NOT NULL DEFAULT true,
    created_at     BIGINT  NOT NULL,
    -- Start of the current run of failed attempts; NULL after a success.
    failing_since  BIGINT,
    disabled_reason TEXT,
    deleted        BOOLEAN NOT NULL DEFAULT false
);

CREATE INDEX hooks_account ON hooks (account_id) WHERE NOT deleted;

CREATE TABLE webhook_deliveries (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hook_id         BIGINT NOT NULL,
    account_id      BIGINT NOT NULL,
    message_id      BIGINT NOT NULL,
    status          TEXT   NOT NULL,
    status_at       BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    state           TEXT   NOT NULL, -- pending | delivered | failed | abandoned
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    -- A dispatcher working on the delivery holds it until then; expired leases are taken over.
    lease_until     BIGINT,
    last_error      TEXT,
    finished_at     BIGINT
);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
-- Per hook, what is due next (the claim walks this per hook and stops at its free slots).
CREATE INDEX webhook_deliveries_hook_due ON webhook_deliveries (hook_id, next_attempt_at, id) WHERE state = 'pending';
-- Deliveries in flight; few at any time, so counting them per hook stays cheap.
CREATE INDEX webhook_deliveries_leased ON webhook_deliveries (hook_id) WHERE lease_until IS NOT NULL;
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (hook_id, message_id, id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (hook_id, id);
CREATE INDEX webhook_deliveries_message ON webhook_deliveries (message_id);

CREATE TABLE webhook_attempts (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id      BIGINT NOT NULL,
    hook_id          BIGINT NOT NULL,
    attempt          BIGINT NOT NULL,
    at               BIGINT NOT NULL,
    http_status      BIGINT,
    latency_ms       BIGINT NOT NULL,
    -- NULL on success; otherwise timeout | dns | connect | tls | http_status | refused_address | redirect
    error_class      TEXT,
    detail           TEXT,
    response_snippet TEXT
);

CREATE INDEX webhook_attempts_hook ON webhook_attempts (hook_id, id);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id);
