//! The outbox's fast path in SQLite: deliveries created leased by the status engine
//! (`hot::engine::enqueue_deliveries`) are read back by this process's dispatcher after their
//! transaction commits, following the delivery id. SQLite commits one writer at a time and ids
//! only grow, so a delivery with a lower id than one already read can never appear later: the
//! cursor misses nothing. Reads go to the reader pool, not the writer.

use sqlx::{Row, SqlitePool};

use super::hooks::{DUE_COLUMNS, DUE_FROM, due_from_row};
use super::map_err;
use super::rows::audited;
use crate::store::*;

/// The highest delivery id so far (0 for none): where the dispatcher's cursor starts.
pub async fn last_id(reader: &SqlitePool) -> StoreResult<DeliveryId> {
    sqlx::query("SELECT COALESCE(MAX(id), 0) FROM webhook_deliveries")
        .fetch_one(reader)
        .await
        .and_then(|row| row.try_get(0))
        .map_err(map_err)
}

/// Up to `limit` deliveries after `after`, in id order: those created leased for this process
/// that may go out now, and those created leased that may not (their hook was disabled since, or
/// an earlier delivery of their message went back to wait for a retry) and must be released.
pub async fn pushed(
    reader: &SqlitePool,
    after: DeliveryId,
    now: i64,
    limit: u32,
) -> StoreResult<Pushed> {
    let sql = format!(
        "SELECT CASE
                WHEN d.state <> 'pending' OR d.lease_until IS NULL OR d.lease_until <= ?2 THEN 0
                WHEN h.enabled = 1 AND NOT EXISTS (
                    SELECT 1 FROM webhook_deliveries e
                    WHERE e.hook_id = d.hook_id AND e.message_id = d.message_id AND e.state = 'pending'
                      AND e.id < d.id AND (e.lease_until IS NULL OR e.lease_until <= ?2)) THEN 1
                ELSE 2 END AS held,
                {DUE_COLUMNS} {DUE_FROM}
         WHERE d.id > ?1 ORDER BY d.id LIMIT ?3"
    );
    let rows = sqlx::query(audited(sql))
        .bind(after)
        .bind(now)
        .bind(limit)
        .fetch_all(reader)
        .await
        .map_err(map_err)?;
    let mut pushed = Pushed {
        cursor: after,
        full: rows.len() >= limit as usize,
        ..Pushed::default()
    };
    for row in &rows {
        pushed.cursor = row.try_get("delivery_id").map_err(map_err)?;
        match row.try_get::<i64, _>("held").map_err(map_err)? {
            1 => pushed.deliveries.push(due_from_row(row, now)?),
            2 => pushed.stale.push(pushed.cursor),
            _ => {}
        }
    }
    Ok(pushed)
}
