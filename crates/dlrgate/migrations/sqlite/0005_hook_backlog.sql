-- A hook whose pending deliveries reached limits.pending_deliveries_per_hook gets no new ones
-- until its backlog is below 90 % of the limit (the backlog sweep sets and clears this).
ALTER TABLE hooks ADD COLUMN backlog_full INTEGER NOT NULL DEFAULT 0;
