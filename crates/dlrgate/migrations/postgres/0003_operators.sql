-- Operators: a message's connector is chosen when it is accepted, SMSC message ids are kept per
-- part, and receipts that arrive before their submit response wait in parked_receipts.

UPDATE messages SET connector = 'sandbox' WHERE state = 'queued' AND connector IS NULL;

DROP INDEX messages_queued_due;
CREATE INDEX messages_queued_due ON messages (connector, send_at) WHERE state = 'queued';

CREATE INDEX message_parts_operator ON message_parts (operator_message_id)
    WHERE operator_message_id IS NOT NULL;

-- A receipt no part matched yet (normalised id of `connector`). Matched and deleted when a
-- submission stores that id; purged with the retention period otherwise.
CREATE TABLE parked_receipts (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    connector           TEXT   NOT NULL,
    operator_message_id TEXT   NOT NULL,
    status              TEXT   NOT NULL,
    at                  BIGINT NOT NULL,
    received_at         BIGINT NOT NULL,
    error_code          TEXT,
    raw                 TEXT
);

CREATE INDEX parked_receipts_operator ON parked_receipts (connector, operator_message_id);
CREATE INDEX parked_receipts_received ON parked_receipts (received_at);
