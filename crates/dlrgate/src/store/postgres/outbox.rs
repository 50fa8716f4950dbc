//! The outbox's fast path in PostgreSQL: deliveries created leased by the status engine
//! (`engine::enqueue_deliveries`) are read by this process's dispatcher once their transaction
//! has committed.
//!
//! Why not a cursor on the delivery id, as in SQLite: there one writer commits at a time, so a
//! delivery with a lower id than one already read can never appear later. Here transactions
//! commit concurrently and out of id order: transaction A takes id 10, B takes id 11, B commits
//! and is read, then A commits — a cursor already past 11 would never see 10. So each delivery
//! created leased is marked `pushed`, and a read takes the marked rows in id order, clearing the
//! mark in the same statement (`FOR UPDATE SKIP LOCKED`, so it never waits on a writer). The
//! mark survives until read, whenever its transaction commits: nothing is missed. `after` and
//! the returned cursor are kept for the trait's sake and mean nothing here.
//!
//! A marked row some other transaction holds is skipped and read next time. A later delivery of
//! the same hook and message must then not go out before it: it is returned as stale (released,
//! and claimed in order later), exactly as one waiting behind an unleased delivery, or behind
//! one another node holds.
//!
//! Several nodes: a node reads only what was pushed to it (`lease_owner` is its `dlrgate.node`).

use sqlx::{PgConnection, PgPool, Row};

use super::hooks::{DUE_COLUMNS, DUE_FROM, due_from_row};
use super::map_err;
use super::rows::audited;
use crate::store::*;

/// The highest delivery id so far (0 for none); kept for the dispatcher's cursor, unused here.
pub async fn last_id(pool: &PgPool) -> StoreResult<DeliveryId> {
    sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM webhook_deliveries")
        .fetch_one(pool)
        .await
        .map_err(map_err)
}

/// Takes up to `limit` pushed deliveries, in id order: those that may go out now, and those
/// that may not (their hook was disabled since, or an earlier delivery of their message waits
/// unleased, or was skipped by this read) and must be released. Those whose lease is gone
/// (claimed after it ran out, released at start) are only unmarked.
pub async fn pushed(pool: &PgPool, after: DeliveryId, now: i64, limit: u32) -> StoreResult<Pushed> {
    let sql = format!(
        "WITH picked AS (
             SELECT id FROM webhook_deliveries
             WHERE pushed AND lease_owner = current_setting('dlrgate.node')
             ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED),
         marked AS (
             UPDATE webhook_deliveries w SET pushed = false FROM picked WHERE w.id = picked.id
             RETURNING w.id)
         SELECT CASE
                WHEN d.state <> 'pending' OR d.lease_until IS NULL OR d.lease_until <= $1
                     OR d.lease_owner IS DISTINCT FROM current_setting('dlrgate.node') THEN 0
                WHEN h.enabled AND NOT EXISTS (
                    SELECT 1 FROM webhook_deliveries e
                    WHERE e.hook_id = d.hook_id AND e.message_id = d.message_id
                      AND e.state = 'pending' AND e.id < d.id
                      AND (e.lease_until IS NULL OR e.lease_until <= $1
                           OR e.lease_owner IS DISTINCT FROM current_setting('dlrgate.node')
                           OR (e.pushed AND e.id NOT IN (SELECT id FROM picked)))) THEN 1
                ELSE 2 END AS held,
                {DUE_COLUMNS} {DUE_FROM}
         JOIN marked k ON k.id = d.id
         ORDER BY d.id"
    );
    let rows = sqlx::query(audited(sql))
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await
        .map_err(map_err)?;
    let mut pushed = Pushed {
        cursor: after,
        full: rows.len() >= limit as usize,
        ..Pushed::default()
    };
    for row in &rows {
        let id: DeliveryId = row.try_get("delivery_id").map_err(map_err)?;
        pushed.cursor = pushed.cursor.max(id);
        match row.try_get::<i32, _>("held").map_err(map_err)? {
            1 => pushed.deliveries.push(due_from_row(row, now)?),
            2 => pushed.stale.push(id),
            _ => {}
        }
    }
    Ok(pushed)
}

/// Hands leased deliveries back, unsent: a later claim takes them, in order. Only this node's
/// leases: one another node took over after this node's ran out stays with that node. The
/// caller has locked them (`hooks::settle_and_claim`).
pub async fn release(tx: &mut PgConnection, ids: &[DeliveryId]) -> StoreResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "UPDATE webhook_deliveries SET lease_until = NULL, lease_owner = NULL
         WHERE state = 'pending' AND id = ANY($1)
           AND lease_owner = current_setting('dlrgate.node')",
    )
    .bind(ids)
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    Ok(())
}
