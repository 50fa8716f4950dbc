-- dlrgate core schema (PostgreSQL). Times are unix milliseconds (UTC) in BIGINT; money is in
-- micro-units. Ids come from identity sequences, so they stay unique whichever node inserts.
-- Same tables, columns and indexes as migrations/sqlite, in PostgreSQL types: BIGINT for every
-- integer (the Rust side reads i64), BOOLEAN for flags, BYTEA for hashes.

CREATE TABLE accounts (
    id                    BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                  TEXT    NOT NULL UNIQUE,
    signing_secret        TEXT    NOT NULL,
    price_per_part_micros BIGINT  NOT NULL DEFAULT 0,
    -- NULL means unlimited.
    balance_micros        BIGINT,
    created_at            BIGINT  NOT NULL
);

CREATE TABLE api_keys (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    key_hash   BYTEA  NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE messages (
    id           BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id   BIGINT  NOT NULL REFERENCES accounts (id),
    recipient    TEXT    NOT NULL,
    sender       TEXT    NOT NULL,
    text         TEXT    NOT NULL,
    encoding     TEXT    NOT NULL,
    parts        BIGINT  NOT NULL,
    price_micros BIGINT  NOT NULL,
    label        TEXT,
    foreign_id   TEXT,
    udh          TEXT,
    flash        BOOLEAN NOT NULL DEFAULT false,
    ttl_minutes  BIGINT,
    created_at   BIGINT  NOT NULL,
    send_at      BIGINT  NOT NULL,
    -- Internal state: queued | sending | processed | cancelled (created is instantaneous).
    state        TEXT    NOT NULL,
    connector    TEXT,
    -- Latest operator status of the whole message (NULL until the first report).
    status       TEXT,
    status_at    BIGINT,
    provisional  BOOLEAN NOT NULL DEFAULT false,
    error_code   TEXT
);

CREATE INDEX messages_queued_due ON messages (send_at) WHERE state = 'queued';
CREATE INDEX messages_account_id ON messages (account_id, id);
CREATE INDEX messages_send_at ON messages (send_at);

CREATE TABLE message_parts (
    message_id  BIGINT  NOT NULL,
    part        BIGINT  NOT NULL,
    status      TEXT,
    status_at   BIGINT,
    provisional BOOLEAN NOT NULL DEFAULT false,
    operator_message_id TEXT,
    PRIMARY KEY (message_id, part)
);

-- Every internal state change and every operator report, applied or not.
CREATE TABLE status_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id  BIGINT NOT NULL,
    part        BIGINT,
    kind        TEXT   NOT NULL, -- internal | report
    state       TEXT   NOT NULL, -- internal state or operator status as reported
    effect      TEXT   NOT NULL, -- applied | duplicate | stale | unmatched
    at          BIGINT NOT NULL,
    source      TEXT   NOT NULL,
    error_code  TEXT,
    raw         TEXT
);

CREATE INDEX status_events_message ON status_events (message_id, id);

-- Operator reports due in the future (the sandbox operator's plan). Deleted when applied.
CREATE TABLE scheduled_reports (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id  BIGINT NOT NULL,
    part        BIGINT NOT NULL,
    status      TEXT   NOT NULL,
    due_at      BIGINT NOT NULL,
    source      TEXT   NOT NULL,
    error_code  TEXT,
    raw         TEXT
);

CREATE INDEX scheduled_reports_due ON scheduled_reports (due_at);
CREATE INDEX scheduled_reports_message ON scheduled_reports (message_id);
