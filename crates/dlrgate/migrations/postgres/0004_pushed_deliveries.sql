-- Deliveries are now created leased for the dispatcher of the process that committed them, so
-- most pending deliveries are leased: the indexes that find work for a claim cover only what no
-- live lease holds (unleased deliveries, and leases that ran out), not every pending delivery.
--
-- Unlike SQLite, the fast path cannot follow the delivery id: concurrent transactions commit
-- out of id order, so a cursor could pass an id whose transaction commits later. A delivery
-- created leased is marked `pushed` instead, and the dispatcher's read clears the mark of what
-- it takes (store/postgres/outbox.rs).

DROP INDEX webhook_deliveries_due;
DROP INDEX webhook_deliveries_hook_due;
DROP INDEX webhook_deliveries_leased;

ALTER TABLE webhook_deliveries ADD COLUMN pushed BOOLEAN NOT NULL DEFAULT false;

-- Per hook, what a claim may take next: pending and unleased, in due order.
CREATE INDEX webhook_deliveries_unleased ON webhook_deliveries (hook_id, next_attempt_at, id)
    WHERE state = 'pending' AND lease_until IS NULL;
-- Leased deliveries by lease end: counting those in flight, and finding leases that ran out.
CREATE INDEX webhook_deliveries_lease_end ON webhook_deliveries (lease_until)
    WHERE state = 'pending' AND lease_until IS NOT NULL;
-- What is due next over all hooks (the dispatcher's poll for retries and unclaimed work).
CREATE INDEX webhook_deliveries_unleased_due ON webhook_deliveries (next_attempt_at)
    WHERE state = 'pending' AND lease_until IS NULL;
-- Deliveries created leased that no dispatcher has read yet (the fast path's queue).
CREATE INDEX webhook_deliveries_pushed ON webhook_deliveries (id) WHERE pushed;
