-- dlrgate core schema (SQLite). Times are unix milliseconds (UTC); money is in micro-units.

CREATE TABLE accounts (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    name                  TEXT    NOT NULL UNIQUE,
    signing_secret        TEXT    NOT NULL,
    price_per_part_micros INTEGER NOT NULL DEFAULT 0,
    -- NULL means unlimited.
    balance_micros        INTEGER,
    created_at            INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    key_hash   BLOB    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE messages (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id   INTEGER NOT NULL REFERENCES accounts (id),
    recipient    TEXT    NOT NULL,
    sender       TEXT    NOT NULL,
    text         TEXT    NOT NULL,
    encoding     TEXT    NOT NULL,
    parts        INTEGER NOT NULL,
    price_micros INTEGER NOT NULL,
    label        TEXT,
    foreign_id   TEXT,
    udh          TEXT,
    flash        INTEGER NOT NULL DEFAULT 0,
    ttl_minutes  INTEGER,
    created_at   INTEGER NOT NULL,
    send_at      INTEGER NOT NULL,
    -- Internal state: queued | processed | cancelled (created is instantaneous).
    state        TEXT    NOT NULL,
    connector    TEXT,
    -- Latest operator status of the whole message (NULL until the first report).
    status       TEXT,
    status_at    INTEGER,
    provisional  INTEGER NOT NULL DEFAULT 0,
    error_code   TEXT
);

CREATE INDEX messages_queued_due ON messages (send_at) WHERE state = 'queued';
CREATE INDEX messages_account_id ON messages (account_id, id);
CREATE INDEX messages_send_at ON messages (send_at);

CREATE TABLE message_parts (
    message_id  INTEGER NOT NULL,
    part        INTEGER NOT NULL,
    status      TEXT,
    status_at   INTEGER,
    provisional INTEGER NOT NULL DEFAULT 0,
    operator_message_id TEXT,
    PRIMARY KEY (message_id, part)
) WITHOUT ROWID;

-- Every internal state change and every operator report, applied or not.
CREATE TABLE status_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id  INTEGER NOT NULL,
    part        INTEGER,
    kind        TEXT    NOT NULL, -- internal | report
    state       TEXT    NOT NULL, -- internal state or operator status as reported
    effect      TEXT    NOT NULL, -- applied | duplicate | stale | unmatched
    at          INTEGER NOT NULL,
    source      TEXT    NOT NULL,
    error_code  TEXT,
    raw         TEXT
);

CREATE INDEX status_events_message ON status_events (message_id, id);

-- Operator reports due in the future (the sandbox operator's plan). Deleted when applied.
CREATE TABLE scheduled_reports (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id  INTEGER NOT NULL,
    part        INTEGER NOT NULL,
    status      TEXT    NOT NULL,
    due_at      INTEGER NOT NULL,
    source      TEXT    NOT NULL,
    error_code  TEXT,
    raw         TEXT
);

CREATE INDEX scheduled_reports_due ON scheduled_reports (due_at);
CREATE INDEX scheduled_reports_message ON scheduled_reports (message_id);
