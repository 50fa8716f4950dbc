//! The per-hook backlog limit in PostgreSQL: marks hooks whose pending deliveries reached the
//! limit, so status changes create no new deliveries for them, and clears the mark once they
//! drained. Also the outbox per hook, for the metrics scrape.

use sqlx::{PgPool, Row};

use super::map_err;
use super::rows::audited;
use crate::store::*;

const PENDING_AT_LEAST: &str = "SELECT hook_id FROM webhook_deliveries WHERE state = 'pending'
     GROUP BY hook_id HAVING COUNT(*) >= $1";

pub async fn check(pool: &PgPool, full_at: u32, resume_below: u32) -> StoreResult<Backlogs> {
    let mut tx = pool.begin().await.map_err(map_err)?;
    let filled = sqlx::query_scalar(audited(format!(
        "UPDATE hooks SET backlog_full = true
         WHERE NOT backlog_full AND NOT deleted AND id IN ({PENDING_AT_LEAST}) RETURNING id"
    )))
    .bind(i64::from(full_at))
    .fetch_all(&mut *tx)
    .await
    .map_err(map_err)?;
    let resumed = sqlx::query_scalar(audited(format!(
        "UPDATE hooks SET backlog_full = false
         WHERE backlog_full AND id NOT IN ({PENDING_AT_LEAST}) RETURNING id"
    )))
    .bind(i64::from(resume_below))
    .fetch_all(&mut *tx)
    .await
    .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    Ok(Backlogs { filled, resumed })
}

/// Every live hook with its pending deliveries: counted on the pending-deliveries index, and the
/// oldest found as the lowest id (ids follow creation), so only one row per hook is read.
pub const OUTBOX_BY_HOOK: &str = "SELECT h.id, COALESCE(p.pending, 0) AS pending, d.created_at
     FROM hooks h
     LEFT JOIN (SELECT hook_id, COUNT(*) AS pending, MIN(id) AS oldest FROM webhook_deliveries
                WHERE state = 'pending' GROUP BY hook_id) p ON p.hook_id = h.id
     LEFT JOIN webhook_deliveries d ON d.id = p.oldest
     WHERE NOT h.deleted ORDER BY h.id";

pub async fn outbox_by_hook(reader: &PgPool) -> StoreResult<Vec<HookOutbox>> {
    let rows = sqlx::query(OUTBOX_BY_HOOK)
        .fetch_all(reader)
        .await
        .map_err(map_err)?;
    rows.iter()
        .map(|row| {
            Ok(HookOutbox {
                hook_id: row.try_get("id").map_err(map_err)?,
                pending: row.try_get("pending").map_err(map_err)?,
                oldest_created_at: row.try_get("created_at").map_err(map_err)?,
            })
        })
        .collect()
}
