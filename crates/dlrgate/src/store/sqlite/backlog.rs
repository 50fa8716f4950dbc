//! The per-hook backlog limit in SQLite: marks hooks whose pending deliveries reached the limit,
//! so status changes create no new deliveries for them, and clears the mark once they drained.

use sqlx::SqlitePool;

use super::map_err;
use super::rows::audited;
use crate::store::*;

const PENDING_AT_LEAST: &str = "SELECT hook_id FROM webhook_deliveries WHERE state = 'pending'
     GROUP BY hook_id HAVING COUNT(*) >= ?1";

pub async fn check(writer: &SqlitePool, full_at: u32, resume_below: u32) -> StoreResult<Backlogs> {
    let mut tx = writer.begin().await.map_err(map_err)?;
    let filled = sqlx::query_scalar(audited(format!(
        "UPDATE hooks SET backlog_full = 1
         WHERE backlog_full = 0 AND deleted = 0 AND id IN ({PENDING_AT_LEAST}) RETURNING id"
    )))
    .bind(i64::from(full_at))
    .fetch_all(&mut *tx)
    .await
    .map_err(map_err)?;
    let resumed = sqlx::query_scalar(audited(format!(
        "UPDATE hooks SET backlog_full = 0
         WHERE backlog_full = 1 AND id NOT IN ({PENDING_AT_LEAST}) RETURNING id"
    )))
    .bind(i64::from(resume_below))
    .fetch_all(&mut *tx)
    .await
    .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    Ok(Backlogs { filled, resumed })
}
