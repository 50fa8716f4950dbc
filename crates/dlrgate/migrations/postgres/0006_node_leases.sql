-- Several dlrgate nodes on one database: every lease and claim names the node that holds it.
-- A node renews what it holds while it lives; once a lease or claim has run out, another node
-- takes the work over. Each connection carries its node's id as the session setting
-- `dlrgate.node` (store/postgres/mod.rs).

-- The node whose dispatcher holds the delivery (with `lease_until`); NULL when unleased.
ALTER TABLE webhook_deliveries ADD COLUMN lease_owner TEXT;
-- The node whose submitter is sending the message (state 'sending'), and until when the claim
-- holds unless renewed. Claims from before this migration have neither and count as run out.
ALTER TABLE messages ADD COLUMN claim_owner TEXT;
ALTER TABLE messages ADD COLUMN claim_until BIGINT;

-- A node's pushed read takes only what was pushed to it.
DROP INDEX webhook_deliveries_pushed;
CREATE INDEX webhook_deliveries_pushed ON webhook_deliveries (lease_owner, id) WHERE pushed;
-- Claims being sent, by connector and end: a node's own, and those run out, to take over.
CREATE INDEX messages_sending ON messages (connector, claim_until) WHERE state = 'sending';

-- The nodes sharing the database, each seen at its last heartbeat (every third of its lease):
-- nodes seen within a lease are live, and each takes an equal share of a hook's concurrency.
CREATE TABLE nodes (
    id       TEXT   PRIMARY KEY,
    seen_at  BIGINT NOT NULL
);
